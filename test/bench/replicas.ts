/**
 * npm run bench:replicas: one URL in front of 1 and of 3 replicas, in the same run. The harness of
 * test/replicas (the built binary ×3 with --redis on a real redis-server, deploy/nginx.conf in
 * front, the simulator in this process) — then BENCH_REPLICAS_CLIENTS official MCP clients
 * (default 200, one credential) call a mix of container_get, file_read and file_list in a loop for
 * BENCH_REPLICAS_S seconds (default 10) through nginx with one upstream (replica 1 alone), then
 * through nginx with all three. Throughput, p50/p99/max latency and errors (must be 0) per setup,
 * with the machine's load average, are merged into bench-results.json (`replicas_http`) and the
 * README table. The clients and the simulator share this process: on a small machine they cost
 * CPU the replicas would otherwise get (the load average says how busy the machine was).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { startCluster, startNginx, type Cluster, type Nginx } from '../helpers/replicas.js';
import { renderTable, updateReadme } from './report.js';
import { pct, round, timedCall } from './stats.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLIENTS = Number(process.env.BENCH_REPLICAS_CLIENTS ?? 200);
const SECONDS = Number(process.env.BENCH_REPLICAS_S ?? 10);
const MIX = (c: Cluster) => [
  { name: 'container_get', arguments: { container: c.sim.containerId } },
  { name: 'file_read', arguments: { container: c.sim.containerId, path: '/home/user/load.txt', limit: 50 } },
  { name: 'file_list', arguments: { container: c.sim.containerId, path: '/home/user' } },
];

/** CPU seconds a process (and, for nginx, its workers) has used so far, from /proc (Linux). */
function cpuOf(pid: number | undefined, withChildren = false): number {
  if (!pid) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100 a second)
    if (!withChildren) return own;
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return own + kids.reduce((a, k) => a + cpuOf(k), 0);
  } catch {
    return NaN;
  }
}

/** Where the CPU went during a phase: each replica, the balancer, Redis, and this process (clients + simulator). */
function cpuMeter(c: Cluster, lb: Nginx) {
  const read = () => ({
    replicas: c.replicas.map((r) => cpuOf(r.proc.pid)),
    nginx: cpuOf(lb.proc.pid, true),
    redis: cpuOf(c.redis?.proc.pid),
    bench_process: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  });
  const start = read();
  return () => {
    const end = read();
    return {
      replicas: end.replicas.map((v, i) => round(v - start.replicas[i]!, 1)),
      nginx: round(end.nginx - start.nginx, 1),
      redis: round(end.redis - start.redis, 1),
      bench_process_clients_and_sim: round(end.bench_process - start.bench_process, 1),
    };
  };
}

async function phase(c: Cluster, lb: Nginx, seconds: number) {
  const load_avg_1m = round(loadavg()[0]!, 2);
  const clients: Client[] = [];
  const errors: string[] = [];
  const mix = MIX(c);
  // Connect in waves of 50, each client making one untimed call: a client's first call also lists
  // the tools (~25 KB, built per request by a stateless server), a one-off cost that 200 fresh
  // clients at once would otherwise pile into the first seconds of the measurement.
  const c0 = performance.now();
  for (let i = 0; i < CLIENTS; i += 50) {
    const wave = Array.from({ length: Math.min(50, CLIENTS - i) }, async (_, k) => {
      const { client } = await c.connect(k % 2 ? '2026-07-28' : '2025-11-25', 'lb', {}, lb.url);
      await client.callTool(mix[0]!);
      return client;
    });
    clients.push(...(await Promise.all(wave)));
  }
  const connect_s = round((performance.now() - c0) / 1000, 1);
  const lat: number[] = [];
  const logged = c.replicas.map((r) => r.logs().length);
  const cpu = cpuMeter(c, lb);
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(
    clients.map(async (client, n) => {
      for (let i = 0; performance.now() < until; i++) {
        await timedCall(client, mix[(n + i) % mix.length]!, lat, errors);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu_s = cpu();
  // The replicas' own view (their JSON request lines): time from a request's arrival to its answer.
  const inReplica = c.replicas.flatMap((r, i) => r.logs().slice(logged[i]).filter((l) => typeof l.tool === 'string').map((l) => Number(l.ms)));
  await Promise.all(clients.map((cl) => cl.close().catch(() => undefined)));
  if (errors.length) console.error(`first errors:\n${[...new Set(errors)].slice(0, 5).join('\n')}`);
  return {
    calls: lat.length,
    errors: errors.length,
    calls_per_s: round(lat.length / wall, 1),
    p50_ms: round(pct(lat, 50), 1),
    p99_ms: round(pct(lat, 99), 1),
    max_ms: round(Math.max(...lat), 1),
    in_replica_p50_ms: round(pct(inReplica, 50), 1),
    in_replica_p99_ms: round(pct(inReplica, 99), 1),
    wall_s: round(wall, 1),
    connect_and_first_call_s: connect_s,
    load_avg_1m_before: load_avg_1m,
    cpu_s,
  };
}

async function main() {
  const c = await startCluster({ replicas: 3 });
  let one: Nginx | undefined;
  const results: Record<string, unknown> = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    load_avg_1m_at_start: round(loadavg()[0]!, 2),
    clients: CLIENTS,
    seconds: SECONDS,
    mix: MIX(c).map((m) => m.name),
    setup: 'nginx (deploy/nginx.conf) → hoody-mcp --http --redis, one redis-server, simulator and clients in the bench process, all on loopback',
  };
  try {
    writeFileSync(c.sim.containerPath(c.sim.containerId, '/home/user/load.txt'), Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n'));
    one = await startNginx([c.replicas[0]!.port]);
    await phase(c, c.nginx, 2); // warm-up: JIT, connection pools, the credential's first checks on every replica
    results.one_replica = await phase(c, one, SECONDS);
    console.error('1 replica done');
    results.three_replicas = await phase(c, c.nginx, SECONDS);
    console.error('3 replicas done');
    const [a, b] = [results.one_replica, results.three_replicas] as { calls_per_s: number }[];
    results.throughput_ratio_3_to_1 = round(b!.calls_per_s / a!.calls_per_s, 2);
    results.load_avg_1m_at_end = round(loadavg()[0]!, 2);
    results.token_in_logs = c.allLogs().includes(c.sim.token);
  } finally {
    await one?.stop();
    await c.close();
  }
  console.log(JSON.stringify(results, null, 2));
  const file = `${ROOT}bench-results.json`;
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const merged = { ...old, replicas_http: results };
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
  updateReadme(`${ROOT}README.md`, renderTable(merged));
  const bad = [results.one_replica, results.three_replicas].some((r) => (r as { errors: number }).errors > 0);
  process.exit(bad ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
