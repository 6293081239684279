/** The shell around a handler, in process: scopes, deadlines, local-only tools, read-only views, waits. */
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { buildMcpServer } from '../../src/mcp/build.js';
import { defineScope, defineTool, readOnlyView, type AnyTool } from '../../src/mcp/define-tool.js';
import { reply } from '../../src/mcp/result.js';
import { ticks, waitStream } from '../../src/mcp/wait.js';

interface Deps { lookups: string[] }
const deps: Deps = { lookups: [] };
const box = defineScope<Deps, string>({
  name: 'box',
  args: { box: z.string().optional() },
  async resolve(args, d) {
    d.lookups.push(String(args.box));
    if (args.box === 'missing') throw Object.assign(new Error('no box "missing"'), { hint: 'list the boxes' });
    return `id-of-${args.box ?? 'default'}`;
  },
});
const seen: unknown[] = [];
const TOOLS: AnyTool<Deps>[] = [
  defineTool<Deps, z.ZodObject<{ n: z.ZodNumber }>, string>({
    name: 'scoped', title: 's', description: 's', toolset: 't', kind: 'read', scope: box,
    input: z.object({ n: z.number() }),
    async handler(args, ctx) {
      seen.push(ctx.scope);
      return reply().text(`${ctx.scope} ${args.n}`);
    },
  }),
  defineTool<Deps, z.ZodObject<{ s: z.ZodNumber }>>({
    name: 'hangs', title: 'h', description: 'h', toolset: 't', kind: 'read', deadline: (a) => a.s,
    input: z.object({ s: z.number() }),
    handler: (_a, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
  }),
  defineTool<Deps, z.ZodObject<Record<string, never>>>({
    name: 'local', title: 'l', description: 'l', toolset: 't', kind: 'write', localOnly: 'use the other tool',
    input: z.object({}),
    handler: async () => reply().text('ran'),
  }),
];

async function connect(remote: boolean) {
  const server = buildMcpServer<Deps>({ name: 't', version: '0', tools: TOOLS, resources: [], deps: () => deps, remote });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'c', version: '0' });
  await client.connect(b);
  return client;
}
const text = (r: { content: unknown }) => (r.content as { text: string }[])[0]!.text;

let client: Client;
beforeAll(async () => {
  client = await connect(false);
});
afterAll(() => client?.close());

describe('scopes', () => {
  it('adds the scope arguments first and resolves them before the handler', async () => {
    const t = (await client.listTools()).tools.find((x) => x.name === 'scoped')!;
    expect(Object.keys(t.inputSchema.properties!)).toEqual(['box', 'n']);
    const r = await client.callTool({ name: 'scoped', arguments: { box: 'b1', n: 2 } });
    expect(text(r)).toBe('id-of-b1 2');
    expect(seen.at(-1)).toBe('id-of-b1');
  });
  it('a scope that cannot resolve fails the call with its words, before the handler', async () => {
    const before = seen.length;
    const r = await client.callTool({ name: 'scoped', arguments: { box: 'missing', n: 1 } });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('no box "missing" — list the boxes');
    expect(seen.length).toBe(before);
  });
  it('refuses a scope argument declared twice', () => {
    expect(() => defineTool({ name: 'x', title: 'x', description: 'x', toolset: 't', kind: 'read', scope: box, input: z.object({ box: z.string() }), handler: async () => reply() })).toThrow(/belongs to scope/);
  });
});

describe('deadlines', () => {
  it('a call that hangs returns a clear isError at its deadline and aborts the work', async () => {
    const t0 = Date.now();
    const r = await client.callTool({ name: 'hangs', arguments: { s: 1 } });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^no answer within 1 s — /);
  });
});

describe('local-only tools', () => {
  it('run locally and are refused, with what to use instead, when served remotely', async () => {
    expect(text(await client.callTool({ name: 'local', arguments: {} }))).toBe('ran');
    const remote = await connect(true);
    const r = await remote.callTool({ name: 'local', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('local is not available on a remote server — use the other tool');
    await remote.close();
  });
});

describe('read-only views', () => {
  const multi = defineTool({
    name: 'snap', title: 's', description: 's', toolset: 't', kind: 'destructive',
    actions: { arg: 'action', kinds: { list: 'read', create: 'write', restore: 'destructive' } },
    input: z.object({ action: z.enum(['list', 'create', 'restore']).describe('what to do'), name: z.string().optional() }),
    handler: async () => reply(),
  });
  it('keeps read tools, narrows multi-action tools to their reads, drops the rest', () => {
    const v = readOnlyView(multi)!;
    expect(v.kind).toBe('read');
    expect(v.input.safeParse({ action: 'list' }).success).toBe(true);
    expect(v.input.safeParse({ action: 'create' }).success).toBe(false);
    expect(v.input.shape.action.description).toBe('what to do');
    expect(multi.input.safeParse({ action: 'create' }).success).toBe(true);
    expect(readOnlyView({ ...multi, actions: { arg: 'action', kinds: { list: 'write', create: 'write', restore: 'write' } } })).toBeUndefined();
    expect(readOnlyView(TOOLS[2]!)).toBeUndefined();
    expect(readOnlyView(TOOLS[0]!)).toBe(TOOLS[0]);
  });
});

describe('waitStream', () => {
  const ctxWith = (signal: AbortSignal, lines: string[]) => ({ signal, progress: async (m: string) => void lines.push(m) });

  it('follows updates to the end, reporting each one with news', async () => {
    const lines: string[] = [];
    async function* updates() {
      yield { out: 'a', done: false };
      yield { out: '', done: false };
      yield { out: 'b', done: true };
    }
    const r = await waitStream(ctxWith(new AbortController().signal, lines), { waitS: 5, updates, progress: (u) => u.out || undefined });
    expect(r).toEqual({ last: { out: 'b', done: true }, stalled: false });
    expect(lines).toEqual(['a', 'b']);
  });

  it('passes until = since + wait_s to the updates', async () => {
    let until = 0;
    const since = Date.now() - 1000;
    await waitStream(ctxWith(new AbortController().signal, []), { waitS: 3, since, updates: async function* (u) { until = u; } });
    expect(until).toBe(since + 3000);
  });

  it('stops the remote work when the client cancels', async () => {
    const ac = new AbortController();
    let cancelled = 0;
    const p = waitStream(ctxWith(ac.signal, []), {
      waitS: 30,
      updates: async function* (_u, signal) {
        yield 1;
        await new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      },
      cancel: async () => void cancelled++,
    });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow('aborted');
    expect(cancelled).toBe(1);
  });

  it('hands back the last update when the updates overrun wait_s (stalled), without cancelling', async () => {
    let cancelled = 0;
    const t0 = Date.now();
    const r = await waitStream(ctxWith(new AbortController().signal, []), {
      waitS: 0,
      updates: async function* (_u, signal) {
        yield 'started';
        await new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('stopped'))));
      },
      cancel: async () => void cancelled++,
    });
    expect(r).toEqual({ last: 'started', stalled: true });
    expect(cancelled).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
  }, 15_000);

  it('ticks turns an onTick-style wait into updates ending with its result', async () => {
    const got: string[] = [];
    for await (const t of ticks<string>(async (onTick) => {
      onTick('a');
      await new Promise((r) => setTimeout(r, 10));
      onTick('b');
      return 'done';
    })) got.push(t);
    expect(got).toEqual(['a', 'b', 'done']);
    await expect(async () => {
      for await (const _ of ticks(async () => { throw new Error('boom'); })) void _;
    }).rejects.toThrow('boom');
  });
});
