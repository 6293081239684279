/**
 * Operable like a service, on the built binary over HTTP: /readyz against a real redis-server
 * (stopped and started again), the graceful drain on SIGTERM (calls finish or hand back their
 * job, a request on an old connection is served and closes it, new connections are refused, listen
 * streams end gracefully, exit 0 within --drain-s), /metrics counting what the test did, and
 * JSON request logs that never carry the token or a tool's arguments.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connectHttp, startHttpServer, waitFor, type HttpServer } from '../helpers/harness.js';
import { simFor } from '../helpers/shared.js';
import { startRedis } from '../helpers/redis.js';
import type { Sim } from '../../src/sim/index.js';

let sim: Sim;
beforeAll(async () => {
  sim = await simFor();
});
afterAll(async () => {
  await sim?.close();
});

const origin = (srv: HttpServer) => new URL(srv.url).origin;

async function get(srv: HttpServer, path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${origin(srv)}${path}`, { headers });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

/** A raw connection with a request's head sent but not finished: busy, so a drain does not close it as idle. */
async function halfRequest(srv: HttpServer, head: string): Promise<{ finish(rest: string): Promise<string> }> {
  const { hostname, port } = new URL(srv.url);
  const s = net.connect(Number(port), hostname);
  await once(s, 'connect');
  s.write(head);
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString()));
  return {
    async finish(rest) {
      s.write(rest);
      await waitFor('an answer on the old connection', () => /\r\n\r\n/.test(got) && (!/content-length: (\d+)/i.test(got) || got.split('\r\n\r\n')[1]!.length >= Number(/content-length: (\d+)/i.exec(got)![1])));
      s.destroy();
      return got;
    },
  };
}

const refused = (srv: HttpServer) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(srv.url);
    const s = net.connect(Number(port), hostname);
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });

describe('/readyz', () => {
  it('is ready while the shared store answers, 503 when Redis stops, ready again when it is back', async () => {
    let redis = await startRedis();
    const srv = await startHttpServer(sim, { args: ['--redis', redis.url] });
    try {
      expect(await get(srv, '/readyz')).toMatchObject({ status: 200, text: JSON.stringify({ status: 'ready' }) });
      await redis.stop();
      const down = await waitFor('503 with Redis stopped', async () => {
        const r = await get(srv, '/readyz');
        return r.status === 503 ? r : undefined;
      });
      expect(JSON.parse(down.text)).toEqual({ status: 'unready', reason: 'shared store unreachable' });
      expect((await get(srv, '/healthz')).status).toBe(200); // alive, just not ready
      redis = await startRedis(redis.port);
      await waitFor('ready with Redis back', async () => (await get(srv, '/readyz')).status === 200, { timeoutMs: 15_000 });
    } finally {
      await srv.close();
      await redis.stop();
    }
  });

  it('is ready without --redis, and needs no credential', async () => {
    const srv = await startHttpServer(sim);
    try {
      expect((await get(srv, '/readyz')).status).toBe(200);
    } finally {
      await srv.close();
    }
  });
});

describe('graceful drain on SIGTERM', () => {
  it('finishes calls in flight, hands back the long one, refuses new work, ends listens gracefully, exits 0 within --drain-s', async () => {
    const drainS = 3;
    const srv = await startHttpServer(sim, { args: ['--drain-s', String(drainS), '--log-format', 'json', '--container', sim.containerId] });
    const c = await connectHttp(srv.url, sim.token, '2026-07-28');
    const host = new URL(srv.url).host;
    try {
      await call(c.client, 'file_write', { path: '/home/user/drain.txt', content: 'v1' });
      const sub = await c.client.listen({ resourceSubscriptions: [`hoody://containers/${sim.containerId}/files/home/user/drain.txt`] });
      await waitFor('the listen counted', async () => /hoody_mcp_http_streams 1\b/.test((await get(srv, '/metrics')).text));
      const readyz = await halfRequest(srv, `GET /readyz HTTP/1.1\r\nHost: ${host}\r\n`);
      const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'late', version: '0' }, 'io.modelcontextprotocol/clientCapabilities': {} };
      const body = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'exec_run', arguments: { command: 'echo late-but-served' }, _meta: meta } });
      const late = await halfRequest(
        srv,
        `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${sim.token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: exec_run\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`,
      );
      const quick = call(c.client, 'exec_run', { command: 'sleep 1.5; echo finished-ok' });
      const long = call(c.client, 'exec_run', { command: 'sleep 30; echo too-late', wait_s: 25 });
      await waitFor('both commands running', () => sim.executions.filter((e) => /finished-ok|too-late/.test(e.command)).length === 2);

      const t0 = Date.now();
      srv.proc.kill('SIGTERM');
      await waitFor('new connections refused', () => refused(srv));
      const r = await readyz.finish('\r\n');
      expect(r).toMatch(/^HTTP\/1.1 503/);
      expect(r).toContain('"reason":"draining"');
      // A request on a connection opened before the drain is served (calls may still finish) and
      // its answer closes the connection: no client error, nothing for a balancer to re-send.
      const l = await late.finish(`\r\n${body}`);
      expect(l).toMatch(/^HTTP\/1.1 200/);
      expect(l).toMatch(/\r\nconnection: close\r\n/i);
      expect(l).toContain('late-but-served');

      const q = await quick;
      expect(q.isError).toBe(false);
      expect(q.text).toContain('finished-ok');
      const h = await long;
      expect(h.isError).toBe(false);
      expect(h.text).toMatch(/still running/);
      expect(h.structured?.job).toBeTruthy();
      expect(await sub.closed).toBe('graceful');
      const [code] = await once(srv.proc, 'exit');
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan((drainS + 3) * 1000);
      expect(sim.executions.filter((e) => e.command.includes('late-but-served'))).toHaveLength(1);
      expect(srv.stderr()).toContain('SIGTERM: draining');
    } finally {
      await c.close().catch(() => undefined);
      await srv.close();
    }
  });
});

describe('/metrics and JSON logs', () => {
  let srv: HttpServer;
  beforeAll(async () => {
    srv = await startHttpServer(sim, { args: ['--log-format', 'json', '--container', sim.containerId] });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('counts the calls per tool (histogram too), upstream errors per kit, and shows no token, id or path', async () => {
    const c = await connectHttp(srv.url, sim.token, '2025-11-25');
    try {
      for (let i = 0; i < 3; i++) expect((await call(c.client, 'file_write', { path: `/home/user/m${i}.txt`, content: 'SECRET-ARG-CONTENT' })).isError).toBe(false);
      expect((await call(c.client, 'file_read', { path: '/home/user/m0.txt' })).isError).toBe(false);
      expect((await call(c.client, 'file_read', { path: '/home/user/no-such-file.txt' })).isError).toBe(true);
    } finally {
      await c.close();
    }
    const m = (await get(srv, '/metrics')).text;
    const value = (re: RegExp) => Number(re.exec(m)?.[1] ?? NaN);
    expect(value(/^hoody_mcp_tool_calls_total\{tool="file_write",transport="http",outcome="ok"\} (\d+)$/m)).toBe(3);
    expect(value(/^hoody_mcp_tool_calls_total\{tool="file_read",transport="http",outcome="ok"\} (\d+)$/m)).toBe(1);
    expect(value(/^hoody_mcp_tool_calls_total\{tool="file_read",transport="http",outcome="error"\} (\d+)$/m)).toBe(1);
    expect(value(/^hoody_mcp_tool_call_duration_seconds_count\{tool="file_write",transport="http"\} (\d+)$/m)).toBe(3);
    expect(m).toMatch(/^hoody_mcp_tool_call_duration_seconds_bucket\{le="0\.5",tool="file_write",transport="http"\} \d+$/m);
    expect(value(/^hoody_mcp_upstream_errors_total\{source="files",status="404"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(m).toMatch(/^hoody_mcp_upstream_watchers 0$/m);
    expect(m).toMatch(/^hoody_mcp_process_resident_memory_bytes \d+/m);
    for (const secret of [sim.token, sim.containerId, '/home/user', 'SECRET-ARG-CONTENT', 'localhost']) expect(m).not.toContain(secret);
  });

  it('writes one JSON line per request with its request id (echoed), never the token or the arguments', async () => {
    const c = await connectHttp(srv.url, sim.token, '2026-07-28');
    try {
      expect((await call(c.client, 'file_write', { path: '/home/user/log.txt', content: 'SECRET-LOG-CONTENT' })).isError).toBe(false);
    } finally {
      await c.close();
    }
    const ok = await get(srv, '/healthz', { 'x-request-id': 'req-abc.1_2' });
    expect(ok.headers.get('x-request-id')).toBe('req-abc.1_2');
    const bad = await get(srv, '/healthz', { 'x-request-id': 'bad id with spaces' });
    const generated = bad.headers.get('x-request-id')!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('the request lines', () => srv.stderr().includes(generated));
    const lines = srv
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.every((l) => typeof l.time === 'string' && typeof l.level === 'string' && typeof l.replica === 'string')).toBe(true);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.every((l) => typeof l.request_id === 'string' && typeof l.status === 'number' && typeof l.ms === 'number')).toBe(true);
    expect(requests.find((l) => l.request_id === 'req-abc.1_2')).toMatchObject({ route: '/healthz', status: 200 });
    expect(requests.filter((l) => l.tool === 'file_write' && (l.methods as string[]).includes('tools/call') && l.status === 200).length).toBeGreaterThanOrEqual(1);
    const all = srv.stderr();
    for (const secret of [sim.token, 'SECRET-LOG-CONTENT', 'SECRET-ARG-CONTENT', 'no-such-file', '/home/user']) expect(all).not.toContain(secret);
  });
});
