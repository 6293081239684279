/**
 * State the replicas share through Redis (--redis): finished jobs, agent cursors, claims and
 * per-credential limits. One real redis-server, one simulator, and several "replicas" in this
 * process: separate Hoody instances, each with its own connection (so its own replica id).
 */
import { Redis } from 'ioredis';
import { sleep } from '../../src/core/http.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentEvent } from '../../src/core/kits/agent.js';
import { Hoody } from '../../src/core/hoody.js';
import { Client, InMemoryTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseConfig, type Config } from '../../src/config.js';
import { credentialSpace, openShared, type Shared } from '../../src/core/shared.js';
import { createServer } from '../../src/server.js';
import { admissionFor } from '../../src/limits.js';
import type { Admitted } from '../../src/mcp/build.js';
import type { Sim } from '../../src/sim/index.js';
import { call, clientFor, simFor, waitFor } from '../helpers/shared.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let raw: Redis;
let sim: Sim;
const stores: Shared[] = [];

/** A replica: its own connection to the store, its own view of the credential. */
async function replica(): Promise<Hoody> {
  const shared = await openShared(redis.url);
  stores.push(shared);
  return new Hoody({ apiUrl: sim.apiUrl, shared }, sim.token);
}

const authorizeCalls = () => sim.requests.filter((q) => q.host === 'api' && q.path.endsWith('/authorize')).length;

async function follow(h: Hoody, session: string, ms: number): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of h.agent.follow(sim.containerId, session, { until: Date.now() + ms, signal: AbortSignal.timeout(10_000) })) out.push(e);
  return out;
}

/**
 * A replica serving MCP: a fresh copy of the server's modules (its own caches and keys, as a
 * process of its own has), its own connection to the store, a 2026-07-28 client that declares
 * elicitation and answers input_required rounds itself.
 */
async function mcpReplica(): Promise<{ client: Client; close(): Promise<void> }> {
  vi.resetModules();
  const { startHttp } = await import('../../src/transports/http.js');
  const config = parseConfig(['--http', '--port', '0', '--container', sim.containerId], { HOODY_API_URL: sim.apiUrl });
  config.shared = await openShared(redis.url);
  stores.push(config.shared);
  // What main.ts does after opening the store, in this replica's copy of the modules.
  await (await import('../../src/mcp/state-key.js')).shareStateKey(config.shared);
  const http = await startHttp(config);
  const client = new Client({ name: 'replica-test', version: '0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    capabilities: { elicitation: { form: {} } },
    inputRequired: { autoFulfill: false },
  } as never);
  client.setRequestHandler('elicitation/create', (async () => ({ action: 'cancel' })) as never);
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${sim.token}` } } }));
  return { client, close: async () => (await client.close(), await http.close()) };
}

const limitsConfig = (shared: Shared | undefined, over: Partial<Config> = {}) =>
  ({ apiUrl: sim.apiUrl, maxArgBytes: 1 << 20, maxConcurrency: 3, rateLimit: 1000, shared, ...over }) as Config;
const refused = (a: Admitted) => ('refuse' in a ? a.refuse : undefined);
async function freshLimits(): Promise<typeof admissionFor> {
  vi.resetModules();
  return (await import('../../src/limits.js')).admissionFor;
}

beforeAll(async () => {
  [redis, sim] = await Promise.all([startRedis(), simFor({ idleReapMs: 600, resultTtlMs: 600 })]);
  raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  raw.on('error', () => undefined); // the last test stops the server
});
afterAll(async () => {
  raw?.disconnect();
  await Promise.all(stores.map((s) => s.close()));
  // (stopped already by the last test when it ran: a killed server does not exit twice)
  await Promise.all([redis?.proc.signalCode ? undefined : redis?.stop(), sim?.close()]);
});

describe('state shared by replicas on a real redis-server', () => {
  it('without a store nothing is written to Redis, and a job read elsewhere is unknown', async () => {
    await raw.flushall();
    const solo = new Hoody({ apiUrl: sim.apiUrl }, sim.token);
    const other = new Hoody({ apiUrl: sim.apiUrl }, sim.token);
    const r = await solo.jobs.run(sim.containerId, { command: 'echo solo' }, { until: Date.now() + 5_000 });
    expect(r.done).toBe(true);
    await solo.agent.kit.list(sim.containerId);
    const admit = admissionFor(limitsConfig(undefined), sim.token);
    const a = admit('exec_run', {}, 30) as Admitted;
    expect(refused(a)).toBeUndefined();
    if ('release' in a) a.release();
    const ran = sim.executions.find((e) => e.command === 'echo solo')!;
    await waitFor('the kit to forget the job', () => ran.forgottenAt, { timeoutMs: 15_000 });
    await expect(other.jobs.status(sim.containerId, r.job)).rejects.toThrow(/unknown in this container/);
    expect(await raw.keys('*')).toEqual([]);
  });

  it("a job's result read through replica 1 after the kit forgot it, when replica 2 started the job", async () => {
    const [r1, r2] = [await replica(), await replica()];
    const started = await r2.jobs.run(sim.containerId, { command: 'sleep 0.3; echo result-from-2; exit 3' }, { until: Date.now() + 10_000 });
    expect(started).toMatchObject({ done: true, exitCode: 3 });
    const ran = sim.executions.find((e) => e.command.startsWith('sleep 0.3; echo result-from-2'))!;
    await waitFor('the kit to forget the job', () => ran.forgottenAt, { timeoutMs: 15_000 });
    const st = await r1.jobs.status(sim.containerId, started.job);
    expect(st).toMatchObject({ done: true, exitCode: 3 });
    expect(st.output).toContain('result-from-2');
  });

  it('agent_status through replica 1 continues where a result through replica 2 stopped', async () => {
    const [r1, r2] = [await replica(), await replica()];
    sim.agent.script('three steps', [{ text: 'STEP-1' }, { delayMs: 400 }, { text: 'STEP-2' }, { text: 'STEP-3' }]);
    const session = await r2.agent.start(sim.containerId, { prompt: 'three steps' });
    const first = await follow(r2, session, 200); // returns a handle while the turn runs
    expect(first.map((e) => e.text)).toContain('STEP-1');
    expect(first.some((e) => e.kind === 'done')).toBe(false);
    await waitFor('the turn to end', async () => (await r2.agent.kit.get(sim.containerId, session)).state === 'idle');
    const rest = await follow(r1, session, 2_000);
    expect(rest[0]!.seq).toBe(first.at(-1)!.seq + 1);
    expect(rest.map((e) => e.text)).toEqual(expect.arrayContaining(['STEP-2', 'STEP-3']));
    expect(rest.map((e) => e.text)).not.toContain('STEP-1');
    expect(rest.at(-1)!.kind).toBe('done');
  });

  it('exec_status through replica 2 shows only the output replica 1 has not shown (and replica 1 then repeats none of it)', async () => {
    const [r1, r2] = [await replica(), await replica()];
    // PART-1 at once, PART-2 once replica 1 has returned the handle (it waits 300 ms).
    const run = await r1.jobs.run(sim.containerId, { command: 'echo PART-1; sleep 0.8; echo PART-2' }, { until: Date.now() + 300 });
    expect(run).toMatchObject({ done: false, fresh: 'PART-1\n' });
    const ran = sim.executions.find((e) => e.command.startsWith('echo PART-1; sleep 0.8'))!;
    await waitFor('the job to end', () => ran.endedAt, { timeoutMs: 10_000 });
    const there = await r2.jobs.status(sim.containerId, run.job);
    expect(there).toMatchObject({ done: true, fresh: 'PART-2\n', shownFrom: 'PART-1\n'.length });
    // Replica 1 still holds its older count: the larger one, from the store, wins.
    const back = await r1.jobs.status(sim.containerId, run.job);
    expect(back).toMatchObject({ done: true, fresh: '' });
    expect(back.output).toBe('PART-1\nPART-2\n');
  });

  it('exec_cancel through replica 2 of a job started through replica 1 returns only the output not shown yet', async () => {
    const [r1, r2] = [await replica(), await replica()];
    const run = await r1.jobs.run(sim.containerId, { command: 'echo BEFORE-CANCEL; sleep 30' }, { until: Date.now() + 300 });
    expect(run).toMatchObject({ done: false, fresh: 'BEFORE-CANCEL\n' });
    const stopped = await r2.jobs.cancel(sim.containerId, run.job, true);
    expect(stopped.done).toBe(true);
    expect(stopped.fresh).not.toContain('BEFORE-CANCEL');
  });

  it('a question round asked through replica 1 and answered through replica 2: every event once, none lost', async () => {
    const [a, b] = [await mcpReplica(), await mcpReplica()];
    try {
      // Replica 2 has followed this session before (an earlier turn): it holds an older place in it.
      sim.agent.script('first turn', [{ text: 'EARLIER' }]);
      const earlier = await call(b.client, 'agent_run', { prompt: 'first turn' });
      const session = (earlier.structured as { session: string }).session;
      sim.agent.script('round trip', [{ text: 'MARK-1' }, { question: 'Colour?' }, { text: 'MARK-2 {answer}' }]);
      const params = { name: 'agent_run', arguments: { prompt: 'round trip', session } };
      const round = (await a.client.request({ method: 'tools/call', params }, { allowInputRequired: true } as never)) as Record<string, unknown>;
      expect(round.resultType).toBe('input_required');
      const retry = { ...params, requestState: round.requestState, inputResponses: { answer: { action: 'accept', content: { answer: 'blue' } } } };
      const done = (await b.client.request({ method: 'tools/call', params: retry }, { allowInputRequired: true } as never)) as { content: { text?: string }[] };
      const text = done.content.map((c) => c.text ?? '').join('\n');
      expect(text, text).toMatch(/· idle/);
      expect(text.match(/MARK-\d|Colour\?|EARLIER/g)).toEqual(['MARK-1', 'Colour?', 'MARK-2']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('one claim minted for ten concurrent agent-kit calls spread over the replicas; a refused one is re-minted once for all', async () => {
    await raw.flushall();
    const rs = await Promise.all([1, 2, 3, 4, 5].map(() => replica()));
    const before = authorizeCalls();
    const lists = await Promise.all(Array.from({ length: 10 }, (_, i) => rs[i % rs.length]!.agent.kit.list(sim.containerId)));
    expect(lists.every(Array.isArray)).toBe(true);
    expect(authorizeCalls() - before).toBe(1);
    // The claim taken from the store is a secret of every replica that used it.
    const [key] = await raw.keys('*:claim:*');
    const { claim } = JSON.parse((await raw.get(key!))!) as { claim: { signature_hex: string } };
    for (const r of rs) expect(r.secrets.scrub(`x ${claim.signature_hex} y`)).not.toContain(claim.signature_hex);

    sim.agent.expireClaims(sim.token);
    for (const r of rs) await r.agent.kit.list(sim.containerId); // each is refused once, and takes the first re-mint
    expect(authorizeCalls() - before).toBe(2);
  });

  it('a claim lock whose holder died lapses, and one waiting replica mints for all', async () => {
    await raw.flushall();
    const rs = await Promise.all([1, 2, 3].map(() => replica()));
    const ns = credentialSpace(sim.apiUrl, undefined, sim.token);
    await raw.set(`hoody-mcp:${ns}:claim-lock:${sim.containerId}`, '"a replica that died"', 'PX', 400);
    const before = authorizeCalls();
    const t0 = Date.now();
    await Promise.all(rs.map((r) => r.agent.kit.list(sim.containerId)));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(authorizeCalls() - before).toBe(1);
  });

  it('tool calls through the MCP server are admitted by the counts in Redis', async () => {
    await raw.flushall();
    const config = parseConfig(['--container', sim.containerId, '--max-concurrency', '1'], { HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token });
    config.shared = stores.at(-1);
    const server = createServer(config, { token: config.token }, { remote: false, subscriptions: 'own' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = clientFor('2025-11-25');
    await client.connect(clientSide);
    try {
      const slow = call(client, 'exec_run', { command: 'sleep 0.5; echo slow-done' });
      const ns = credentialSpace(sim.apiUrl, undefined, sim.token);
      await waitFor('the slow call to hold its place in Redis', async () => (await raw.zcard(`hoody-mcp:${ns}:limits:running`)) === 1);
      expect((await call(client, 'exec_run', { command: 'echo second' })).text).toMatch(/1 calls are already running for this credential/);
      expect((await slow).text).toContain('slow-done');
      expect((await call(client, 'exec_run', { command: 'echo third' })).text).toContain('third');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('--max-concurrency and --rate-limit count calls on every replica', async () => {
    await raw.flushall();
    const [a, b] = [await openShared(redis.url), await openShared(redis.url)];
    stores.push(a, b);
    // Each replica is its own process: a fresh copy of the module, with its own local limiters.
    const [limitsA, limitsB] = [await freshLimits(), await freshLimits()];
    const onA = limitsA(limitsConfig(a), sim.token);
    const onB = limitsB(limitsConfig(b), sim.token);
    const held = [await onA('exec_run', {}, 30), await onB('exec_run', {}, 30), await onA('exec_run', {}, 30)];
    expect(held.map(refused)).toEqual([undefined, undefined, undefined]);
    expect(refused(await onB('exec_run', {}, 30))).toMatch(/^3 calls are already running for this credential.*--max-concurrency/);
    const release = (a: Admitted) => 'release' in a && a.release();
    release(held.shift()!);
    await expect.poll(async () => (held[2] = await onB('exec_run', {}, 30)), { interval: 20 }).toHaveProperty('release');
    held.forEach(release);

    await raw.flushall();
    const rateA = limitsA(limitsConfig(a, { rateLimit: 4, maxConcurrency: 100 }), sim.token);
    const rateB = limitsB(limitsConfig(b, { rateLimit: 4, maxConcurrency: 100 }), sim.token);
    const starts = [await rateA('x', {}, 30), await rateB('x', {}, 30), await rateA('x', {}, 30), await rateB('x', {}, 30)];
    expect(starts.map(refused)).toEqual([undefined, undefined, undefined, undefined]);
    expect(refused(await rateB('x', {}, 30))).toMatch(/rate limit of 4 calls a minute.*--rate-limit/);
  });

  it("an agent session's transcript is read through replica 1 after the gateway lost it, when replica 2 followed the turn", async () => {
    const [r1, r2] = [await replica(), await replica()];
    sim.agent.script('kept transcript', [{ text: 'KEPT-1' }, { text: 'KEPT-2' }]);
    const session = await r2.agent.start(sim.containerId, { prompt: 'kept transcript' });
    expect((await follow(r2, session, 3_000)).map((e) => e.text)).toEqual(expect.arrayContaining(['KEPT-1', 'KEPT-2']));
    const texts = async (h: Hoody) => (await h.agent.transcript(sim.containerId, session)).events.map((e) => e.text);
    // While the kit has it: its ring and the kept copy, each event once.
    await expect.poll(() => texts(r1)).toEqual(expect.arrayContaining(['KEPT-1', 'KEPT-2']));
    expect((await texts(r1)).filter((t) => t === 'KEPT-1')).toHaveLength(1);
    sim.agent.forget(session);
    await expect(r1.agent.kit.get(sim.containerId, session)).rejects.toMatchObject({ kind: 'not_found' });
    const kept = await r1.agent.transcript(sim.containerId, session);
    expect(kept.events.map((e) => e.text)).toEqual(expect.arrayContaining(['KEPT-1', 'KEPT-2']));
    expect(kept.state).toMatch(/^unknown/);
    // Without a store the kit's loss is the transcript's: not found, as before.
    await expect(new Hoody({ apiUrl: sim.apiUrl }, sim.token).agent.transcript(sim.containerId, session)).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('every key is namespaced by a hash, never the token, and expires', async () => {
    await raw.flushall();
    const h = await replica();
    await h.jobs.run(sim.containerId, { command: 'echo keys' }, { until: Date.now() + 5_000 });
    sim.agent.script('keys', [{ text: 'K' }]);
    await follow(h, await h.agent.start(sim.containerId, { prompt: 'keys' }), 3_000);
    const gate = await admissionFor(limitsConfig(stores.at(-1)), sim.token)('exec_run', {}, 30); // held: its place is a key
    await waitFor('the background writes', async () => (await raw.keys('*')).length >= 7);
    const keys = await raw.keys('*');
    expect(new Set(keys.map((k) => k.split(':')[2]))).toEqual(new Set(['job', 'job-seen', 'agent', 'agent-log', 'claim', 'limits']));
    for (const k of keys) {
      expect(k).not.toContain(sim.token);
      expect(k).toMatch(/^hoody-mcp:[0-9a-f]{32}:/);
      expect(await raw.pttl(k), k).toBeGreaterThan(0);
    }
    if ('release' in gate) gate.release();
  });

  it('a Redis that died fails no call: each falls back to what the replica holds', async () => {
    const [r1, r2] = [await replica(), await replica()];
    const onR1 = admissionFor(limitsConfig(stores.at(-2)), sim.token);
    await r2.agent.kit.list(sim.containerId);
    await redis.stop();
    const t0 = Date.now();
    const admitted = await onR1('exec_run', {}, 30);
    expect(refused(admitted)).toBeUndefined();
    const r = await r1.jobs.run(sim.containerId, { command: 'echo after-redis' }, { until: Date.now() + 5_000 });
    expect(r.output).toContain('after-redis');
    sim.agent.expireClaims(sim.token);
    expect(Array.isArray(await r1.agent.kit.list(sim.containerId))).toBe(true);
    sim.agent.script('after redis', [{ text: 'STILL-HERE' }]);
    const session = await r1.agent.start(sim.containerId, { prompt: 'after redis' });
    expect((await follow(r1, session, 3_000)).map((e) => e.text)).toContain('STILL-HERE');
    expect(Date.now() - t0).toBeLessThan(5_000);
    // With the store gone for good, admissions over ~4 s (past the 3 s pause, so a probe runs)
    // never wait on it: a command fails at once, and only one call at a time probes.
    const slow: number[] = [];
    for (const until = Date.now() + 4_000; Date.now() < until; await sleep(50)) {
      const t = performance.now();
      const a = await onR1('exec_run', {}, 30);
      slow.push(performance.now() - t);
      if ('release' in a) a.release();
    }
    expect(Math.max(...slow), `admission times (ms): ${slow.map((x) => x.toFixed(1)).join(' ')}`).toBeLessThan(100);
  });
});
