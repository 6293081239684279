/**
 * npm run bench:load: a bounded load test of one HTTP server (the built binary, `--http`) against
 * the embedded simulator: LOAD_CLIENTS official MCP clients (default 50) × LOAD_CALLS calls each
 * (default 200), all on one credential, a mix of container_get, file_read and file_list. Reports
 * per-call latency (p50/p99/max), errors, throughput and the server's RSS (start, peak, end; read
 * from /proc), and merges `load_http` into bench-results.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startSim } from '../../src/sim/index.js';
import { timedCall } from './stats.js';

const CLI = fileURLToPath(new URL('../../bin/cli.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../../bench-results.json', import.meta.url));
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 50);
const CALLS = Number(process.env.LOAD_CALLS ?? 200);

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;
/** Resident set of a process in MB: now (VmRSS) and its peak so far (VmHWM). */
function rssOf(pid: number): { now: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { now: round(kb('VmRSS') / 1024), peak: round(kb('VmHWM') / 1024) };
}

const sim = await startSim();
writeFileSync(sim.containerPath(sim.containerId, '/home/user/load.txt'), Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n'));
const proc = spawn(process.execPath, [CLI, '--http', '--port', '0', '--rate-limit', '1000000', '--max-concurrency', String(CLIENTS * 2)], {
  env: { PATH: process.env.PATH ?? '', HOODY_API_URL: sim.apiUrl, HOODY_CONTAINER: sim.containerId },
  stdio: ['ignore', 'ignore', 'pipe'],
});
const url = await new Promise<string>((resolve, reject) => {
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    const m = /serving streamable HTTP at (\S+)/.exec(err);
    if (m) resolve(m[1]!);
  });
  proc.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
});

const CALL_MIX = [
  { name: 'container_get', arguments: {} },
  { name: 'file_read', arguments: { path: '/home/user/load.txt', limit: 50 } },
  { name: 'file_list', arguments: { path: '/home/user' } },
];

const latencies: number[] = [];
const errors: string[] = [];
const start = rssOf(proc.pid!);
let peakSeen = start.now;
const sampler = setInterval(() => (peakSeen = Math.max(peakSeen, rssOf(proc.pid!).now)), 100);
const t0 = performance.now();
try {
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const client = new Client({ name: `load-${c}`, version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${sim.token}` } } }));
      for (let i = 0; i < CALLS; i++) {
        await timedCall(client, CALL_MIX[(c + i) % CALL_MIX.length]!, latencies, errors);
      }
      await client.close();
    }),
  );
} finally {
  clearInterval(sampler);
}
const wall = performance.now() - t0;
const end = rssOf(proc.pid!);
proc.kill();
await sim.close();

const sorted = [...latencies].sort((a, b) => a - b);
const load_http = {
  at: new Date().toISOString(),
  clients: CLIENTS,
  calls_per_client: CALLS,
  calls: latencies.length,
  mix: CALL_MIX.map((c) => c.name),
  errors: errors.length,
  p50_ms: round(pct(sorted, 50)),
  p99_ms: round(pct(sorted, 99)),
  max_ms: round(sorted[sorted.length - 1] ?? 0),
  calls_per_s: round(latencies.length / (wall / 1000)),
  wall_s: round(wall / 1000),
  server_rss_mb: { start: start.now, peak: Math.max(peakSeen, end.peak), end: end.now },
};
console.log(JSON.stringify(load_http, null, 2));
if (errors.length) console.log(`first errors:\n${[...new Set(errors)].slice(0, 5).join('\n')}`);
const results = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
writeFileSync(RESULTS, `${JSON.stringify({ ...results, load_http }, null, 2)}\n`);
process.exit(errors.length ? 1 : 0);
