/**
 * Property-based fuzz of every tool's arguments (issue 17): hostile values — wrong types, huge and
 * odd strings, traversal, injection, NULs — mixed with well-shaped ones so calls get past
 * validation and reach the simulator. In process (thousands of cases), then over stdio and HTTP
 * (hundreds). Each call must answer within its deadline, with no stack trace and no credential,
 * and the server must stay up with bounded memory.
 *
 * Seed: FUZZ_SEED, else fixed under CI, else random (printed, to replay). FUZZ_RUNS scales it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { connectHttp, connectStdio, startHttpServer, type HttpServer } from '../helpers/harness.js';
import { connectInproc } from '../helpers/inproc.js';
import { simFor, type Connected } from '../helpers/shared.js';

const SEED = Number(process.env.FUZZ_SEED ?? (process.env.CI ? 17 : Math.floor(Math.random() * 2 ** 31)));
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
/** Tools left out: they would end the session under test (container_delete, container_action) or touch the test machine's own files (file_transfer). */
const SKIP = new Set(['container_delete', 'container_action', 'file_transfer']);
const STACK = /\n\s+at |\bat [^\s()]+ \([^()]+:\d+:\d+\)|node:internal|Cannot read properties|is not a function|TypeError|RangeError/;

const hostileString = fc.oneof(
  fc.constantFrom('', ' ', '..', '../../etc/passwd', '/../../../../etc/shadow', '~/../../root', '%2e%2e/%2e%2e/', '../auth/tokens?', '/api/v1/auth/tokens#', 'a/../../b', '\u0000', '/home/user/\u0000x', '$(id)', '`id`', '; rm -rf /tmp/x', '\' OR 1=1 --', '<script>alert(1)</script>', '{{7*7}}', '${jndi:ldap://x}', 'http://evil.example/', '//evil.example/x', '\r\nX-Injected: 1', '🦄'.repeat(50), '\u202e\u200b', 'CON', 'null', 'NaN', '-1', '1e309'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.integer({ min: 1000, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 100, max: 5000 }).map((n) => '/a'.repeat(n)),
  fc.integer({ min: 10, max: 20_000 }).map((n) => '\u0000'.repeat(n)),
);
const hostile = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0.000001, 1e308, -1e308, 2 ** 53 + 1),
  fc.array(hostileString, { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), hostileString, { maxKeys: 4 }),
  fc.constant({ __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } }),
);

interface Prop {
  type?: string | string[];
  enum?: unknown[];
  items?: Prop;
}

/** A well-shaped value for a property (so the call gets past validation), or a hostile one. */
function valueFor(name: string, p: Prop, sim: Sim): fc.Arbitrary<unknown> {
  const shaped: fc.Arbitrary<unknown>[] = [];
  if (p.enum?.length) shaped.push(fc.constantFrom(...p.enum));
  const type = Array.isArray(p.type) ? p.type[0] : p.type;
  if (name === 'container') shaped.push(fc.constantFrom(sim.containerId, sim.containerName));
  else if (/wait_s|timeout_s/.test(name)) shaped.push(fc.constantFrom(0, 1));
  else if (name === 'command') shaped.push(hostileString.map((s) => `printf '%s\\n' '${s.replace(/\0/g, '').replace(/'/g, "'\\''")}'`));
  // The token among the values: a tool that echoes its input must still not show it.
  else if (type === 'string') shaped.push(fc.oneof(hostileString, fc.constantFrom('/home/user/fuzz.txt', '/home/user', '~/f', '/tmp', sim.token, `/home/user/${sim.token}`)));
  else if (type === 'number' || type === 'integer') shaped.push(fc.integer({ min: 0, max: 50 }));
  else if (type === 'boolean') shaped.push(fc.boolean());
  else if (type === 'array') shaped.push(fc.array(p.items ? valueFor(`${name}[]`, p.items, sim) : hostile, { maxLength: 4 }));
  else shaped.push(fc.dictionary(fc.stringMatching(/^[A-Z_]{1,8}$/), hostileString, { maxKeys: 3 }));
  // A command is never hostile itself: it runs for real on this machine (as printf of a hostile string).
  return name === 'command' ? shaped[0]! : fc.oneof({ weight: 3, arbitrary: fc.oneof(...shaped) }, { weight: 1, arbitrary: hostile });
}

function argsFor(schema: { properties?: Record<string, Prop> }, sim: Sim): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, p]) => [k, valueFor(k, p, sim)]));
  return fc.tuple(fc.record(props, { requiredKeys: [] }), fc.dictionary(fc.string({ maxLength: 6 }), hostile, { maxKeys: 2 })).map(([a, extra]) => ({ ...extra, ...a }));
}

interface Figures {
  cases: number;
  errors: number;
  stacks: string[];
  leaks: string[];
  hangs: string[];
  peakMb: number;
}

async function fuzz(client: Client, sim: Sim, runs: number, rss: () => number, alive: () => boolean): Promise<Figures> {
  const tools = (await client.listTools()).tools.filter((t) => !SKIP.has(t.name));
  const f: Figures = { cases: 0, errors: 0, stacks: [], leaks: [], hangs: [], peakMb: rss() };
  const cases = fc.oneof(...tools.map((t) => argsFor(t.inputSchema as never, sim).map((args) => ({ name: t.name, args }))));
  await fc.assert(
    fc.asyncProperty(cases, async ({ name, args }) => {
      f.cases++;
      const label = `${name} ${JSON.stringify(args).slice(0, 160)}`;
      let text: string;
      try {
        const r = await client.callTool({ name, arguments: args }, { timeout: 45_000 });
        text = JSON.stringify(r);
        if (r.isError) f.errors++;
      } catch (err) {
        f.errors++;
        text = String((err as Error).message);
        if (/timed out|Request timeout/i.test(text)) f.hangs.push(label);
      }
      if (STACK.test(text)) f.stacks.push(`${label} → ${text.slice(0, 300)}`);
      if (text.includes(sim.token)) f.leaks.push(label);
      f.peakMb = Math.max(f.peakMb, rss());
      return alive();
    }),
    { seed: SEED, numRuns: runs, endOnFailure: true },
  );
  return f;
}

/** Each run's figures; with FUZZ_REPORT=<file> (npm run bench:fuzz) they are also written there as JSON. */
const figures: Record<string, unknown> = {};
function report(where: string, f: Figures) {
  console.log(`fuzz ${where} (seed ${SEED}): ${f.cases} cases, ${f.errors} refused, exits 0, stack traces ${f.stacks.length}, leaks ${f.leaks.length}, hangs ${f.hangs.length}, peak RSS ${f.peakMb.toFixed(0)} MB`);
  figures[where] = { seed: SEED, cases: f.cases, refused: f.errors, exits: 0, stack_traces: f.stacks.length, leaks: f.leaks.length, hangs: f.hangs.length, peak_rss_mb: Math.round(f.peakMb) };
  if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify(figures, null, 2));
}
const expectClean = (f: Figures) => expect({ stacks: f.stacks.slice(0, 3), leaks: f.leaks.slice(0, 3), hangs: f.hangs.slice(0, 3) }).toEqual({ stacks: [], leaks: [], hangs: [] });
const selfRss = () => process.memoryUsage().rss / 1024 / 1024;
const peakOf = (pid: number) => () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

let sim: Sim;
beforeAll(async () => {
  sim = await simFor();
});
afterAll(async () => {
  await sim?.close();
});

describe('fuzz every tool', () => {
  it('in process', async () => {
    const c = await connectInproc(sim, { args: ['--container', sim.containerId, '--toolsets', 'all', '--rate-limit', '1000000'] });
    try {
      const before = selfRss();
      const f = await fuzz(c.client, sim, 3000 * SCALE, selfRss, () => true);
      report('in process', f);
      expectClean(f);
      // This process also holds the simulator (a Chromium driver, a wasm SQLite, X clients): what
      // the fuzz adds is what counts here; the server's own RSS is bounded over stdio and HTTP.
      expect(f.peakMb - before).toBeLessThan(400);
    } finally {
      await c.close();
    }
  });

  it('over stdio', async () => {
    const c: Connected = await connectStdio(sim, { args: ['--container', sim.containerId, '--toolsets', 'all', '--rate-limit', '1000000'] });
    const proc = (c.client.transport as unknown as { _process?: { pid: number; exitCode: number | null } })._process!;
    try {
      const f = await fuzz(c.client, sim, 300 * SCALE, peakOf(proc.pid), () => proc.exitCode === null);
      report('stdio', f);
      expectClean(f);
      expect(f.peakMb).toBeLessThan(400);
      expect(proc.exitCode).toBe(null);
      expect(c.stderr()).not.toContain(sim.token);
    } finally {
      await c.close();
    }
  });

  it('over HTTP', async () => {
    const srv: HttpServer = await startHttpServer(sim, { args: ['--container', sim.containerId, '--toolsets', 'all', '--rate-limit', '1000000'] });
    const c = await connectHttp(srv.url, sim.token);
    try {
      const f = await fuzz(c.client, sim, 300 * SCALE, peakOf(srv.proc.pid!), () => srv.proc.exitCode === null);
      report('HTTP', f);
      expectClean(f);
      expect(f.peakMb).toBeLessThan(400);
      expect(srv.stderr()).not.toContain(sim.token);
    } finally {
      await c.close();
      await srv.close();
    }
  });
});
