/**
 * Per call: each tool through MCP (the built server over stdio) beside the same upstream exchange
 * made directly with the same HTTP core, alternating, median of N; overhead = the difference of
 * the medians. Round trips are counted from the simulator's request log for one warmed-up call.
 */
import { randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { request } from '../../src/core/http.js';
import type { Sim } from '../../src/sim/index.js';
import { median, round, timed } from './stats.js';

interface Op {
  name: string;
  mcp: (i: number) => Promise<unknown>;
  direct: (i: number) => Promise<unknown>;
}

async function send(method: string, url: URL, source: string, body?: unknown, idempotent?: boolean): Promise<string> {
  const res = await request({ method, url, source, body, idempotent, headers: Buffer.isBuffer(body) ? { 'content-type': 'application/octet-stream' } : undefined });
  return res.body.text();
}

/** exec `true` as exec_run does it: start without waiting, then read the result on the same schedule (20 ms, ×1.5). */
async function directExec(term: string): Promise<void> {
  const id = randomInt(1, 65536);
  await send('POST', new URL(`/api/v1/terminal/execute?terminal_id=${randomInt(40000, 60000)}&wait=false`, term), 'terminal', { command: 'true', id: String(id), wait: false, timeout: 0 }, false);
  for (let wait = 20; ; wait = Math.min(1000, Math.round(wait * 1.5))) {
    await new Promise((r) => setTimeout(r, wait));
    const r = JSON.parse(await send('GET', new URL(`/api/v1/terminal/result/${id}`, term), 'terminal')) as { status?: string };
    if (r.status !== 'running' && r.status !== 'queued') return;
  }
}

function ops(client: Client, sim: Sim): Op[] {
  const term = sim.kitUrl(sim.containerId, 'terminal');
  const files = sim.kitUrl(sim.containerId, 'files');
  const fileUrl = (p: string, q = '') => new URL(`/api/v1/files${p}${q}`, files);
  const mcp = (name: string, args: Record<string, unknown>) => async () => {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content).slice(0, 300)}`);
    return r;
  };
  const edit = (i: number) => (i % 2 ? ['v1', 'v0'] : ['v0', 'v1']);
  return [
    { name: 'exec_run_true', mcp: mcp('exec_run', { command: 'true' }), direct: () => directExec(term) },
    { name: 'file_read_1000_lines', mcp: mcp('file_read', { path: '/home/user/bench.txt' }), direct: () => send('GET', fileUrl('/home/user/bench.txt'), 'files') },
    {
      name: 'file_write_4kb',
      mcp: mcp('file_write', { path: '/home/user/w.txt', content: 'x'.repeat(4096) }),
      direct: () => send('PUT', fileUrl('/home/user/w2.txt'), 'files', Buffer.from('x'.repeat(4096))),
    },
    {
      name: 'file_edit',
      mcp: (i) => mcp('file_edit', { path: '/home/user/e.txt', old_string: `value = ${edit(i)[0]}`, new_string: `value = ${edit(i)[1]}` })(),
      direct: async (i) => {
        const text = await send('GET', fileUrl('/home/user/e2.txt'), 'files');
        await send('GET', fileUrl('/home/user/e2.txt', '?hash=true'), 'files');
        await send('PUT', fileUrl('/home/user/e2.txt'), 'files', Buffer.from(text.replace(`value = ${edit(i)[0]}`, `value = ${edit(i)[1]}`)));
      },
    },
  ];
}

/** The upstream requests one call makes: the log between two sentinel requests sent before and after it. */
async function roundTrips(sim: Sim, call: () => Promise<unknown>): Promise<string[]> {
  const files = sim.kitUrl(sim.containerId, 'files');
  // A request is logged when its answer has finished, which may be just after its caller moved on:
  // a sentinel answered (and logged) before the call starts marks where the call's requests begin.
  const sentinel = async (tag: string) => {
    await send('GET', new URL(`/api/v1/files/health?sentinel=${tag}`, files), 'files');
    for (;;) {
      const i = sim.requests.findLastIndex((q) => q.query === `sentinel=${tag}`);
      if (i >= 0) return i;
      await new Promise((r) => setImmediate(r));
    }
  };
  const tag = String(Math.random()).slice(2);
  const from = await sentinel(`a${tag}`);
  await call();
  const to = await sentinel(`b${tag}`);
  return sim.requests.slice(from + 1, to).map((q) => `${q.method} ${q.host} ${q.path.replace(/\/home\/user\/.*/, '/…')}${q.query ? ` ${q.query}` : ''}`);
}

export async function perCall(client: Client, sim: Sim, n: number, floorClient: Client) {
  const put = async (p: string, text: string) => {
    const host = sim.containerPath(sim.containerId, p);
    await mkdir(dirname(host), { recursive: true });
    await writeFile(host, text);
  };
  await put('/home/user/bench.txt', Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n'));
  await put('/home/user/e.txt', 'header\nvalue = v0\nfooter\n');
  await put('/home/user/e2.txt', 'header\nvalue = v0\nfooter\n');
  const out: Record<string, unknown> = {};
  for (const op of ops(client, sim)) {
    await op.mcp(0); // warm: container, kit URLs, mark
    await op.mcp(1);
    await op.direct(0);
    await op.direct(1);
    const trips = await roundTrips(sim, () => op.mcp(0));
    const answer = await op.mcp(1);
    const size = Buffer.byteLength(JSON.stringify(answer));
    const f: number[] = [];
    for (let i = 0; i < n; i++) f.push(await timed(() => floorClient.callTool({ name: 'text', arguments: { n: size } })));
    const m: number[] = [];
    const d: number[] = [];
    for (let i = 0; i < n; i++) {
      m.push(await timed(() => op.mcp(i)));
      d.push(await timed(() => op.direct(i)));
    }
    out[op.name] = {
      mcp_ms: round(median(m)),
      direct_ms: round(median(d)),
      overhead_ms: round(median(m) - median(d)),
      ratio: round(median(m) / median(d)),
      // what any SDK server pays to hand an answer of this size to the client (bare server, no upstream)
      answer_bytes: size,
      transport_floor_ms: round(median(f)),
      overhead_beyond_floor_ms: round(median(m) - median(d) - median(f)),
      upstream_requests: trips.length,
      requests: trips,
    };
  }
  return out;
}
