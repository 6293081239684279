/**
 * Three replicas behind nginx (deploy/nginx.conf) operated like a service: the balancer spreads
 * calls and passes the request id, /metrics stays inside and counts what was done per replica,
 * a SIGTERM drains a replica with no client error (its in-flight calls finish, new calls go to
 * the others), and no log line carries the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, waitFor, type Connected } from '../helpers/shared.js';
import { metric, startCluster, type Cluster } from '../helpers/replicas.js';

let t: Cluster;
beforeAll(async () => {
  t = await startCluster();
});
afterAll(async () => {
  await t?.close();
});

const get = (p: string) => fetch(`http://127.0.0.1:${t.nginx.port}${p}`).then((r) => r.status);
/** Access-log lines of /mcp requests that ended, and which replica port(s) nginx tried for each. */
const mcpLines = () => t.nginx.accessLog().filter((l) => l.includes('"POST /mcp '));
const triedPorts = (line: string) => [.../upstream=(\S+(?:, \S+)*) ustatus=/.exec(line)?.[1]?.matchAll(/127\.0\.0\.1:(\d+)/g) ?? []].map((m) => Number(m[1]));
const toolCalls = async (n: number, tool: string) => metric(await t.replicas[n - 1]!.metrics(), 'hoody_mcp_tool_calls_total', { tool });

describe('three replicas behind the recipe', () => {
  it('nginx spreads calls over the replicas, passes X-Request-Id, serves /healthz and /readyz, keeps /metrics inside', async () => {
    expect(await get('/healthz')).toBe(200);
    expect(await get('/readyz')).toBe(200);
    expect(await get('/metrics')).toBe(404);
    for (const r of t.replicas) expect((await r.metrics()).length).toBeGreaterThan(0);

    const before = mcpLines().length;
    const c = await t.connect('2025-11-25', 'lb', { 'x-request-id': 'replicas-rid-1' });
    try {
      for (let i = 0; i < 9; i++) expect((await call(c.client, 'container_get', { container: t.sim.containerId })).isError).toBe(false);
    } finally {
      await c.close();
    }
    await waitFor('the access log', () => mcpLines().length >= before + 9);
    const served = new Set(mcpLines().slice(before).flatMap(triedPorts));
    expect([...served].sort()).toEqual(t.replicas.map((r) => r.port).sort());
    await waitFor('the request id in the replicas\' logs', () => t.replicas.some((r) => r.logs().some((l) => l.request_id === 'replicas-rid-1')));
  });

  it('/metrics of each replica counts the calls it served, per tool', async () => {
    const before = await Promise.all(t.replicas.map((r) => toolCalls(r.n, 'file_list')));
    const clients = await Promise.all(t.replicas.map((r) => t.connect('2026-07-28', r.n)));
    try {
      // Replica n gets n + 1 calls: each count is told apart from the others.
      await Promise.all(clients.map(async (c, i) => {
        for (let k = 0; k < i + 2; k++) expect((await call(c.client, 'file_list', { container: t.sim.containerId, path: '/home/user' })).isError).toBe(false);
      }));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    const after = await Promise.all(t.replicas.map((r) => toolCalls(r.n, 'file_list')));
    expect(after.map((a, i) => a - before[i]!)).toEqual([2, 3, 4]);
    expect(metric(await t.replicas[0]!.metrics(), 'hoody_mcp_tool_calls_total', { tool: 'file_list', transport: 'http', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
  });

  it('SIGTERM on a replica during calls: in-flight calls finish, new ones go elsewhere, no client error', async () => {
    const r1 = t.replicas[0]!;
    const direct = await t.connect('2025-11-25', 1);
    const listener = await t.connect('2026-07-28', 1);
    const lbClients: Connected[] = await Promise.all(Array.from({ length: 6 }, (_, i) => t.connect(i % 2 ? '2026-07-28' : '2025-11-25')));
    const errors: string[] = [];
    let done = false;
    const linesBefore = mcpLines().length;
    try {
      const sub = await listener.client.listen({ resourceSubscriptions: [`hoody://containers/${t.sim.containerId}/files/home/user`] });
      // Three calls in flight on replica 1 (2 s each)…
      const ran = t.sim.executions.length;
      const inflight = [0, 1, 2].map((i) => call(direct.client, 'exec_run', { container: t.sim.containerId, command: `sleep 2; echo inflight-${i}` }));
      // …and a steady flow of calls through nginx the whole time.
      const flow = lbClients.map(async (c, i) => {
        for (let k = 0; !done; k++) {
          const r = await call(c.client, k % 2 ? 'container_get' : 'exec_run', k % 2 ? { container: t.sim.containerId } : { container: t.sim.containerId, command: `echo flow-${i}-${k}` }).catch(
            (err: Error) => ({ isError: true, text: err.message }),
          );
          if (r.isError) errors.push(r.text);
        }
      });
      await waitFor('the three calls to run on replica 1', () => t.sim.executions.slice(ran).filter((e) => e.command.startsWith('sleep 2; echo inflight-')).length === 3);
      r1.term();
      const ended = await Promise.race([sub.closed, new Promise((r) => setTimeout(() => r('still open'), 10_000))]);
      expect(['graceful', 'remote']).toContain(ended);
      const results = await Promise.all(inflight);
      results.forEach((r, i) => expect(r.text).toMatch(new RegExp(`^exit 0[\\s\\S]*inflight-${i}`)));
      expect(await Promise.race([r1.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))])).toBe(0);
      // Calls keep flowing through nginx after replica 1 is gone.
      const atExit = mcpLines().length;
      await waitFor('calls served after replica 1 exited', () => mcpLines().length > atExit + 10);
      done = true;
      await Promise.all(flow);
    } finally {
      done = true;
      await Promise.all([direct, listener, ...lbClients].map((c) => c.close().catch(() => undefined)));
    }
    expect(errors).toEqual([]);
    // nginx tried replica 1 for some new call during the drain and moved it to another replica.
    const moved = mcpLines().slice(linesBefore).filter((l) => triedPorts(l)[0] === r1.port && triedPorts(l).length > 1);
    expect(moved.length, 'calls nginx moved from the draining replica').toBeGreaterThan(0);
    expect(await get('/readyz')).toBe(200);
  });

  it('no log line of any replica, nor of nginx, carries the token', () => {
    for (const r of t.replicas) expect(r.logs().length, `replica ${r.n} JSON log lines`).toBeGreaterThan(0);
    expect(t.tokenSeenIn()).toEqual([]);
  });
});
