/**
 * Per call: each tool through MCP (the built server over stdio) beside the same upstream exchange
 * made directly with the same HTTP core from a process of its own (as the server makes it), and
 * beside the SDK floor: a bare official-SDK server making that exchange and sending an answer as
 * large (floor-server.ts). The three alternate, in rotating order, median of N each; overhead =
 * the difference of the medians. Round trips are counted from the simulator's request log for one
 * warmed-up call.
 */
import { fork } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { request } from '../../src/core/http.js';
import type { Sim } from '../../src/sim/index.js';
import { median, round, timed } from './stats.js';

interface Op {
  name: string;
  tool: string;
  args: (i: number) => Record<string, unknown>;
}

async function send(method: string, url: URL, source: string, body?: unknown, idempotent?: boolean): Promise<string> {
  const res = await request({ method, url, source, body, idempotent, headers: Buffer.isBuffer(body) ? { 'content-type': 'application/octet-stream' } : undefined });
  return res.body.text();
}

/**
 * exec `true` as exec_run does it: start without waiting, then read the result on the same
 * schedule (20 ms, ×1.5). The first wait counts from the start's answer, as jobs.ts counts it:
 * 20 ms less the time since (a timer of 19.9 ms fires a millisecond before one of 20).
 */
async function directExec(term: string): Promise<void> {
  const id = randomInt(1, 65536);
  await send('POST', new URL(`/api/v1/terminal/execute?terminal_id=${randomInt(40000, 60000)}&wait=false`, term), 'terminal', { command: 'true', id: String(id), wait: false, timeout: 0 }, false);
  const readAt = performance.now();
  for (let wait = 20, first = true; ; wait = Math.min(1000, Math.round(wait * 1.5)), first = false) {
    await new Promise((r) => setTimeout(r, first ? Math.max(0, wait - (performance.now() - readAt)) : wait));
    const r = JSON.parse(await send('GET', new URL(`/api/v1/terminal/result/${id}`, term), 'terminal')) as { status?: string };
    if (r.status !== 'running' && r.status !== 'queued') return;
  }
}

const edit = (i: number) => (i % 2 ? ['v1', 'v0'] : ['v0', 'v1']);

/** Each tool's upstream exchange made directly on files of its own (`/home/user/{w,e}<tag>.txt`). */
export function directOps(term: string, files: string, tag: string): Record<string, (i: number) => Promise<unknown>> {
  const fileUrl = (p: string, q = '') => new URL(`/api/v1/files${p}${q}`, files);
  return {
    exec_run_true: () => directExec(term),
    file_read_1000_lines: () => send('GET', fileUrl('/home/user/bench.txt'), 'files'),
    file_write_4kb: () => send('PUT', fileUrl(`/home/user/w${tag}.txt`), 'files', Buffer.from('x'.repeat(4096))),
    file_edit: async (i) => {
      const text = await send('GET', fileUrl(`/home/user/e${tag}.txt`), 'files');
      await send('GET', fileUrl(`/home/user/e${tag}.txt`, '?hash=true'), 'files');
      await send('PUT', fileUrl(`/home/user/e${tag}.txt`), 'files', Buffer.from(text.replace(`value = ${edit(i)[0]}`, `value = ${edit(i)[1]}`)));
    },
  };
}

const OPS: Op[] = [
  { name: 'exec_run_true', tool: 'exec_run', args: () => ({ command: 'true' }) },
  { name: 'file_read_1000_lines', tool: 'file_read', args: () => ({ path: '/home/user/bench.txt' }) },
  { name: 'file_write_4kb', tool: 'file_write', args: () => ({ path: '/home/user/w.txt', content: 'x'.repeat(4096) }) },
  { name: 'file_edit', tool: 'file_edit', args: (i) => ({ path: '/home/user/e.txt', old_string: `value = ${edit(i)[0]}`, new_string: `value = ${edit(i)[1]}` }) },
];

type Answer = { content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Answer> {
  const r = (await client.callTool({ name, arguments: args })) as Answer;
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content).slice(0, 300)}`);
  return r;
}

/**
 * The direct client in a process of its own (this file, forked): it makes op `name` (i) when
 * asked and answers how long it took by its own clock, so the asking costs nothing measured.
 */
function directProcess(sim: Sim) {
  const child = fork(fileURLToPath(import.meta.url), ['direct-client'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const init = { term: sim.kitUrl(sim.containerId, 'terminal'), files: sim.kitUrl(sim.containerId, 'files') };
  let seq = 0;
  return {
    time: (name: string, i: number) =>
      new Promise<number>((resolve, reject) => {
        const id = ++seq;
        const onMessage = (m: { id: number; ms?: number; error?: string }) => {
          if (m.id !== id) return;
          child.off('message', onMessage);
          if (m.error) reject(new Error(`direct ${name}: ${m.error}`));
          else resolve(m.ms!);
        };
        child.on('message', onMessage);
        child.send({ id, init, name, i });
      }),
    close: () => child.kill(),
  };
}

if (process.argv[2] === 'direct-client') {
  let direct: ReturnType<typeof directOps> | undefined;
  process.on('message', (m: { id: number; init: { term: string; files: string }; name: string; i: number }) => {
    direct ??= directOps(m.init.term, m.init.files, '3');
    timed(() => direct![m.name]!(m.i)).then(
      (ms) => process.send!({ id: m.id, ms }),
      (err: Error) => process.send!({ id: m.id, error: err.message }),
    );
  });
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

/**
 * `floor`: a client of floor-server.ts. Each iteration times the three in a rotating order, so a
 * slow second of a shared machine falls on each alike.
 */
export async function perCall(client: Client, sim: Sim, n: number, floor: Client) {
  const put = async (p: string, text: string) => {
    const host = sim.containerPath(sim.containerId, p);
    await mkdir(dirname(host), { recursive: true });
    await writeFile(host, text);
  };
  await put('/home/user/bench.txt', Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n'));
  for (const tag of ['', '3', '4']) await put(`/home/user/e${tag}.txt`, 'header\nvalue = v0\nfooter\n');
  const out: Record<string, unknown> = {};
  const own = directProcess(sim);
  try {
    for (const op of OPS) {
      const mcp = (i: number) => call(client, op.tool, op.args(i));
      // The floor answers as hoody-mcp does: a text as long, made of its first characters, and the
      // same structured content.
      const answer = await mcp(0);
      await mcp(1);
      const text = answer.content.find((c) => c.type === 'text')?.text ?? '';
      const shape = { n: text.length, sample: text.slice(0, 200), ...(answer.structuredContent ? { structured: answer.structuredContent } : {}) };
      const viaFloor = (i: number) => call(floor, op.name, { i, ...shape, args: op.args(i) });
      await viaFloor(0);
      await viaFloor(1);
      await own.time(op.name, 0);
      await own.time(op.name, 1);
      const trips = await roundTrips(sim, () => mcp(0));
      const size = Buffer.byteLength(JSON.stringify(await mcp(1)));
      const m: number[] = [];
      const f: number[] = [];
      const x: number[] = [];
      for (let i = 0; i < n; i++) {
        const steps = [async () => m.push(await timed(() => mcp(i))), async () => f.push(await timed(() => viaFloor(i))), async () => x.push(await own.time(op.name, i))];
        for (let k = 0; k < 3; k++) await steps[(i + k) % 3]!();
      }
      out[op.name] = {
        calls: n,
        mcp_ms: round(median(m)),
        // the same exchange from a process of its own, as the server makes it
        direct_ms: round(median(x)),
        overhead_ms: round(median(m) - median(x)),
        ratio: round(median(m) / median(x)),
        answer_bytes: size,
        // what a bare SDK server adds to the same exchange and an answer as large (any SDK server pays it)
        sdk_floor_ms: round(median(f) - median(x)),
        // what hoody-mcp adds beyond that floor (its own layers)
        overhead_beyond_sdk_floor_ms: round(median(m) - median(f)),
        upstream_requests: trips.length,
        requests: trips,
      };
    }
  } finally {
    own.close();
  }
  return out;
}
