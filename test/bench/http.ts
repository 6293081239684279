/**
 * HTTP serving: the built server with --http, then 1, 10 and 50 concurrent MCP clients (streamable
 * HTTP) each calling file_read of a small file in a loop for a few seconds: calls per second,
 * p50/p99 latency, and the server's RSS before and after each level (and over an optional soak).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Sim } from '../../src/sim/index.js';
import { pct, round, rssOf } from './stats.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function level(url: URL, clients: number, seconds: number) {
  const cs = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new Client({ name: 'bench', version: '0' });
      await c.connect(new StreamableHTTPClientTransport(url));
      return c;
    }),
  );
  const lat: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    cs.map(async (c) => {
      while (performance.now() < until) {
        const t = performance.now();
        const r = await c.callTool({ name: 'file_read', arguments: { path: '/home/user/small.txt' } });
        if (r.isError) throw new Error(JSON.stringify(r.content).slice(0, 200));
        lat.push(performance.now() - t);
      }
    }),
  );
  await Promise.all(cs.map((c) => c.close()));
  return { clients, calls_per_s: round(lat.length / seconds, 1), p50_ms: round(pct(lat, 50)), p99_ms: round(pct(lat, 99)) };
}

export async function httpServing(cli: string, serverEnv: Record<string, string>, sim: Sim, seconds: number, soakS: number) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(sim.containerPath(sim.containerId, '/home/user/small.txt'), 'hello\n'.repeat(20));
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '', ...serverEnv };
  const p = spawn(process.execPath, [cli, '--http', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(new URL('/healthz', url)).then((r) => r.status).catch(() => 0)) === 200) break;
      if (i > 200) throw new Error('the HTTP server did not come up');
      await new Promise((r) => setTimeout(r, 50));
    }
    const levels = [];
    for (const c of [1, 10, 50]) {
      const before = rssOf(p.pid!);
      const r = await level(url, c, seconds);
      levels.push({ ...r, rss_mb_before: before?.rss_mb, rss_mb_after: rssOf(p.pid!)?.rss_mb });
    }
    let soak: unknown;
    if (soakS > 0) {
      const samples: number[] = [rssOf(p.pid!)?.rss_mb ?? NaN];
      const timer = setInterval(() => samples.push(rssOf(p.pid!)?.rss_mb ?? NaN), 10_000);
      const r = await level(url, 10, soakS);
      clearInterval(timer);
      samples.push(rssOf(p.pid!)?.rss_mb ?? NaN);
      // Flat = what the second half adds: a leak grows steadily; a warmed-up heap does not.
      const half = samples[Math.floor(samples.length / 2)]!;
      soak = {
        seconds: soakS,
        clients: 10,
        calls: Math.round(r.calls_per_s * soakS),
        calls_per_s: r.calls_per_s,
        p50_ms: r.p50_ms,
        p99_ms: r.p99_ms,
        rss_mb_start: samples[0],
        rss_mb_half: half,
        rss_mb_end: samples.at(-1),
        rss_mb_max: Math.max(...samples),
        rss_mb_second_half_growth: round(samples.at(-1)! - half, 1),
        rss_mb_samples_every_10_s: samples,
      };
    }
    return { levels, soak, server_peak_rss_mb: rssOf(p.pid!)?.peak_mb };
  } finally {
    p.kill('SIGTERM');
  }
}
