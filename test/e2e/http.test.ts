/**
 * The built server over streamable HTTP: guards, per-request credentials, both protocol eras,
 * progress over the response stream, and remote-only refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, connectHttp, ERAS, simFor, startHttpServer, waitFor, type HttpServer } from '../helpers/harness.js';
import { simApi } from '../helpers/sim-api.js';

let sim: Sim;
let srv: HttpServer;

beforeAll(async () => {
  sim = await simFor();
  srv = await startHttpServer(sim);
});
afterAll(async () => {
  await srv?.close();
  await sim?.close();
});

/** Watchers the watch kit has created so far (a subscription is live once its watcher exists). */
const watchersCreated = () => sim.requests.filter((q) => q.host === 'watch' && q.method === 'POST' && q.path === '/watchers' && q.status < 300).length;

const post = (url: string, headers: Record<string, string>, body: unknown = { jsonrpc: '2.0', id: 1, method: 'ping' }) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });

describe('HTTP guards', () => {
  it('answers /healthz', async () => {
    const r = await fetch(srv.url.replace('/mcp', '/healthz'));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('401 with WWW-Authenticate without a credential (no server token held)', async () => {
    const r = await post(srv.url, {});
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('403 for a foreign Host or Origin (DNS rebinding)', async () => {
    const port = new URL(srv.url).port;
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.end('{}');
    });
    expect(status).toBe(403);
    const r = await post(srv.url, { authorization: `Bearer ${sim.token}`, origin: 'https://evil.example' });
    expect(r.status).toBe(403);
  });

  it('bad bodies get JSON-RPC errors and the server keeps serving', async () => {
    const auth = { authorization: `Bearer ${sim.token}` };
    const raw = (body: string, headers: Record<string, string> = {}) =>
      fetch(srv.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...auth, ...headers }, body });
    const notJson = await raw('{"jsonrpc":');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: number } }).error.code).toBe(-32700);
    expect((await raw('{"jsonrpc":"2.0","id":1,"method":"ping"}', { 'content-type': 'text/plain' })).status).toBe(415);
    const big = await raw(`{"x":"${'a'.repeat(49 * 1024 * 1024)}"}`).catch(() => undefined);
    expect(big === undefined || big.status === 413).toBe(true);
    const after = await post(srv.url, auth);
    expect(after.status).toBe(200);
  });

  it('404 for other paths', async () => {
    expect((await fetch(srv.url.replace('/mcp', '/.well-known/oauth-authorization-server'))).status).toBe(404);
  });
});

describe('HTTP sessions in every protocol era', () => {
  for (const era of ERAS) {
    it(`${era}: lists tools and calls one with the request's own credential`, async () => {
      const c = await connectHttp(srv.url, sim.token, era);
      try {
        const tools = await c.client.listTools();
        expect(tools.tools.map((t) => t.name)).toContain('exec_run');
        const r = await call(c.client, 'project_list');
        expect(r.text).toContain(sim.projectId);
      } finally {
        await c.close();
      }
    });
  }

  it('a bad credential reaches Hoody as that credential and fails clearly', async () => {
    const c = await connectHttp(srv.url, 'hdy_wrong', '2025-11-25');
    try {
      const r = await call(c.client, 'project_list');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/token was refused/);
      expect(r.text).not.toContain('hdy_wrong');
    } finally {
      await c.close();
    }
  });

  it('streams exec output as progress over HTTP', async () => {
    const c = await connectHttp(srv.url, sim.token, '2025-11-25');
    try {
      const progress: string[] = [];
      const r = await call(
        c.client,
        'exec_run',
        { container: sim.containerId, command: 'for i in 1 2 3; do echo tick$i; sleep 0.4; done' },
        { onprogress: (p) => progress.push(p.message ?? '') },
      );
      expect(r.text).toMatch(/^exit 0/);
      expect(progress.join('\n')).toContain('tick1');
    } finally {
      await c.close();
    }
  });

  for (const era of ['2025-11-25', '2026-07-28'] as const) {
    it(`${era}: a client cancel mid-command kills the remote command`, async () => {
      const c = await connectHttp(srv.url, sim.token, era);
      try {
        const ac = new AbortController();
        const before = sim.executions.length;
        const p = call(c.client, 'exec_run', { container: sim.containerId, command: 'sleep 45; echo never', wait_s: 30 }, { signal: ac.signal });
        await waitFor('the command to start', () => sim.executions[before]);
        ac.abort();
        await expect(p).rejects.toThrow();
        const deadline = Date.now() + 8000;
        while (Date.now() < deadline && sim.executions[before]?.endedAt === undefined) await new Promise((r) => setTimeout(r, 100));
        expect(sim.executions[before]?.command).toBe('sleep 45; echo never');
        expect(sim.executions[before]?.endedAt).toBeDefined();
      } finally {
        await c.close();
      }
    });
  }

  it('keeps concurrent calls apart (20 at once, each gets its own output)', async () => {
    const c = await connectHttp(srv.url, sim.token, '2025-11-25');
    try {
      const before = sim.executions.length;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call(c.client, 'exec_run', { container: sim.containerId, command: `sleep 0.$((RANDOM % 5)); echo call-${i}` })),
      );
      results.forEach((r, i) => expect(r.text).toMatch(new RegExp(`^exit 0[\\s\\S]*\\ncall-${i}\\n?$`)));
      expect(sim.executions.length - before).toBe(20);
    } finally {
      await c.close();
    }
  });

  it('2026-07-28: subscriptions/listen delivers resources/updated for a watched file, per credential', async () => {
    const c = await connectHttp(srv.url, sim.token, '2026-07-28');
    try {
      await call(c.client, 'file_write', { container: sim.containerId, path: '/home/user/hw/f.txt', content: 'v1' });
      const uri = `hoody://containers/${sim.containerId}/files/home/user/hw/f.txt`;
      const updates: string[] = [];
      c.client.setNotificationHandler('notifications/resources/updated', (n) => void updates.push(n.params.uri));
      const watchers = watchersCreated();
      const sub = await c.client.listen({ resourceSubscriptions: [uri] });
      expect(sub.honoredFilter.resourceSubscriptions).toEqual([uri]);
      await waitFor('the watcher behind the subscription', () => watchersCreated() > watchers);
      await call(c.client, 'file_write', { container: sim.containerId, path: '/home/user/hw/f.txt', content: 'v2' });
      const deadline = Date.now() + 5000;
      while (!updates.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(new Set(updates)).toEqual(new Set([uri]));
      await sub.close();
    } finally {
      await c.close();
    }
  });

  it('2026-07-28: a change in one tenant\'s file does not notify another tenant subscribed on the same server', async () => {
    // Tenant B: a second credential that cannot see tenant A's containers (scoped to another realm).
    const res = await fetch(`http://127.0.0.1:${sim.port}/api/v1/auth/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'tenant-b', realm_ids: ['bbbbbbbbbbbbbbbbbbbbbbbb'], allow_no_realm: false }),
    });
    const tokenB = ((await res.json()) as { data: { token: string } }).data.token;
    await expect(simApi(sim, `/api/v1/containers/${sim.containerId}`, tokenB)).rejects.toThrow(/HTTP 403/);
    const a = await connectHttp(srv.url, sim.token, '2026-07-28');
    const b = await connectHttp(srv.url, tokenB, '2026-07-28');
    try {
      await call(a.client, 'file_write', { container: sim.containerId, path: '/home/user/tenants/a.txt', content: 'v1' });
      const uri = `hoody://containers/${sim.containerId}/files/home/user/tenants/a.txt`;
      const seen = { a: [] as string[], b: [] as string[] };
      a.client.setNotificationHandler('notifications/resources/updated', (n) => void seen.a.push(n.params.uri));
      b.client.setNotificationHandler('notifications/resources/updated', (n) => void seen.b.push(n.params.uri));
      const watchers = watchersCreated();
      const subA = await a.client.listen({ resourceSubscriptions: [uri] });
      await waitFor('tenant A\'s watcher', () => watchersCreated() > watchers);
      // B asks for the same URI: with its own credential it cannot watch it.
      const subB = await b.client.listen({ resourceSubscriptions: [uri] }).catch(() => undefined);
      await call(a.client, 'file_write', { container: sim.containerId, path: '/home/user/tenants/a.txt', content: 'v2' });
      await waitFor('tenant A\'s update', () => seen.a.length > 0);
      await new Promise((r) => setTimeout(r, 500)); // B's would have come with A's: give it the same chance
      expect(seen.a).toContain(uri);
      expect(seen.b).toEqual([]);
      await subA.close();
      await subB?.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('2025-era HTTP does not offer subscriptions (no stream to carry them)', async () => {
    const c = await connectHttp(srv.url, sim.token, '2025-11-25');
    try {
      expect(c.client.getServerCapabilities()?.resources?.subscribe).toBeFalsy();
    } finally {
      await c.close();
    }
  });

  it('refuses file_transfer when hosted', async () => {
    const c = await connectHttp(srv.url, sim.token, '2026-07-28');
    try {
      const r = await call(c.client, 'file_transfer', { container: sim.containerId, direction: 'download', local_path: '/tmp/x', remote_path: '/etc/hostname' });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/not available on a remote server/);
    } finally {
      await c.close();
    }
  });
});

describe('HTTP start-up rules', () => {
  it('--allowed-hosts: a named Host is served, any other gets 403', async () => {
    const s = await startHttpServer(sim, { args: ['--allowed-hosts', 'mcp.example.com,other.example.org'] });
    try {
      const port = new URL(s.url).port;
      const { request } = await import('node:http');
      const statusFor = (host: string, path = '/healthz') =>
        new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          req.on('error', reject);
          req.end();
        });
      expect(await statusFor(`mcp.example.com:${port}`)).toBe(200);
      expect(await statusFor('other.example.org')).toBe(200);
      expect(await statusFor(`MCP.example.com:${port}`)).toBe(200);
      expect(await statusFor(`evil.example.com:${port}`)).toBe(403);
      expect(await statusFor('example.com')).toBe(403);
      expect(await statusFor(`127.0.0.1:${port}`)).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('uses the server token for loopback clients without their own', async () => {
    const s = await startHttpServer(sim, { env: { HOODY_TOKEN: sim.token } });
    try {
      const c = await connectHttp(s.url, undefined);
      const r = await call(c.client, 'project_list');
      expect(r.text).toContain(sim.projectId);
      await c.close();
    } finally {
      await s.close();
    }
  });

  it('refuses to bind beyond loopback while holding a token', async () => {
    await expect(startHttpServer(sim, { args: ['--host', '0.0.0.0'], env: { HOODY_TOKEN: sim.token } })).rejects.toThrow(/refusing to bind 0\.0\.0\.0/);
  });
});
