/**
 * The built server over streamable HTTP: guards, per-request credentials, both protocol eras,
 * progress over the response stream, and remote-only refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, connectHttp, ERAS, simFor, startHttpServer, type HttpServer } from '../helpers/harness.js';

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
        await new Promise((r) => setTimeout(r, 1500));
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
      const sub = await c.client.listen({ resourceSubscriptions: [uri] });
      expect(sub.honoredFilter.resourceSubscriptions).toEqual([uri]);
      await new Promise((r) => setTimeout(r, 700));
      await call(c.client, 'file_write', { container: sim.containerId, path: '/home/user/hw/f.txt', content: 'v2' });
      const deadline = Date.now() + 5000;
      while (!updates.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(new Set(updates)).toEqual(new Set([uri]));
      await sub.close();
    } finally {
      await c.close();
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
