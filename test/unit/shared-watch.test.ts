/**
 * One upstream watcher per container directory across replicas (src/core/shared-watch.ts): a real
 * redis-server, one simulator, three "replicas" in this process (three Hoody instances, each on
 * its own Redis connection, as three processes would be).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hoody } from '../../src/core/hoody.js';
import { openShared, type Shared } from '../../src/core/shared.js';
import { attach } from '../../src/observe.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let sim: Sim;
let raw: Redis;
const replicas: { shared: Shared; h: Hoody }[] = [];
let held = 0; // upstream watchers held, summed over the replicas (the 'watchers' gauge)
let detach: () => void;
let killed = -1; // the replica the second test kills
const host = (p: string) => sim.containerPath(sim.containerId, p);

beforeAll(async () => {
  [redis, sim] = await Promise.all([startRedis(), startSim({})]);
  raw = new Redis(redis.url);
  for (let i = 0; i < 3; i++) {
    const shared = await openShared(redis.url);
    replicas.push({ shared, h: new Hoody({ apiUrl: sim.apiUrl, shared }, sim.token) });
  }
  detach = attach({ gauge: (name, d) => name === 'watchers' && (held += d) });
});
afterAll(async () => {
  detach();
  raw.disconnect();
  await Promise.allSettled(replicas.map((r) => r.shared.close()));
  await sim.close();
  await redis.stop();
});

/** Watch-kit requests from index `from` on. */
const watchRequests = (from: number) => sim.requests.slice(from).filter((q) => q.host === 'watch' && q.status > 0);
const watchersCreated = (from: number) => watchRequests(from).filter((q) => q.method === 'POST' && q.path === '/watchers').length;
const watchersPolled = (from: number) =>
  new Set(watchRequests(from).flatMap((q) => /^\/watchers\/([0-9a-f-]{36})\/events$/.exec(q.path)?.[1] ?? []));
/** The replica id holding the lease of the one watched directory (undefined: nobody). */
async function holder(): Promise<string | undefined> {
  const keys = await raw.keys('hoody-mcp:*:watch:*:lease');
  expect(keys.length).toBeLessThanOrEqual(1);
  return keys[0] ? ((await raw.get(keys[0])) ?? undefined) : undefined;
}

interface Subscriber {
  replica: number;
  path: string;
  heard: number;
  ac: AbortController;
}

async function subscribe(n: number, dir: string, file: string): Promise<Subscriber[]> {
  const subs: Subscriber[] = Array.from({ length: n }, (_, i) => ({ replica: i % 3, path: i % 3 === 2 ? file : dir, heard: 0, ac: new AbortController() }));
  await Promise.all(
    subs.map((s) => replicas[s.replica]!.h.watches.follow(sim.containerId, s.path, s.path === dir, () => (s.heard += 1), s.ac.signal)),
  );
  return subs;
}

/** Wait until every one of `subs` heard more than it had at `before`. */
async function allHeard(subs: Subscriber[], before: Map<Subscriber, number>, timeout = 10_000): Promise<void> {
  await expect.poll(() => subs.filter((s) => s.heard <= before.get(s)!).length, { timeout, interval: 50 }).toBe(0);
}
const snapshot = (subs: Subscriber[]) => new Map(subs.map((s) => [s, s.heard]));

describe('one upstream watcher across replicas (--redis)', () => {
  const dir = '/home/user/shared-w';
  const file = `${dir}/f.txt`;
  let subs: Subscriber[];
  let from: number;

  it('30 subscribers over 3 replicas: one kit watcher, one holder, everyone hears a change', async () => {
    await mkdir(host(dir), { recursive: true });
    await writeFile(host(file), '0');
    from = sim.requests.length;
    subs = await subscribe(30, dir, file);
    // A file subscriber elsewhere in the directory hears nothing of f.txt.
    const other = { heard: 0, ac: new AbortController() };
    await replicas[1]!.h.watches.follow(sim.containerId, `${dir}/other.txt`, false, () => (other.heard += 1), other.ac.signal);

    const before = snapshot(subs);
    await writeFile(host(file), '1');
    await allHeard(subs, before);
    expect(watchersCreated(from)).toBe(1);
    expect(watchersPolled(from).size).toBe(1);
    expect(held).toBe(1);
    expect(replicas.map((r) => r.shared.replica)).toContain(await holder());
    expect(other.heard).toBe(0);
    other.ac.abort();
  });

  it('the holder killed: another replica takes over within seconds, from its cursor (a change made in the gap is heard)', async () => {
    const id = await holder();
    const k = replicas.findIndex((r) => r.shared.replica === id);
    expect(k).toBeGreaterThanOrEqual(0);
    // A crash: its Redis connection gone without releasing anything, its subscribers gone with it.
    killed = k;
    await replicas[k]!.shared.close();
    const killedAt = Date.now();
    for (const s of subs.filter((s) => s.replica === k)) s.ac.abort();
    const alive = subs.filter((s) => s.replica !== k);

    const before = snapshot(alive);
    await writeFile(host(file), 'in the gap');
    await allHeard(alive, before);
    const takeover = Date.now() - killedAt;
    const next = await holder();
    expect(next).toBeDefined();
    expect(next).not.toBe(id);
    expect(takeover).toBeLessThan(6_000);
    console.log(`takeover: the gap change heard by all ${alive.length} survivors ${takeover} ms after the kill`);

    const again = snapshot(alive);
    await writeFile(host(file), 'after');
    await allHeard(alive, again);
    // Still the same single kit watcher, continued from the stored cursor.
    expect(watchersCreated(from)).toBe(1);
    expect(watchersPolled(from).size).toBe(1);
  });

  it('all subscribers leaving: the lease is released and no poller is left', async () => {
    for (const s of subs) s.ac.abort();
    // Released at once, not left to expire (LEASE_MS = 3 s).
    await expect.poll(holder, { timeout: 1_500, interval: 50 }).toBeUndefined();
    await expect.poll(() => held, { timeout: 5_000, interval: 50 }).toBe(0);
    // Absence takes a window: a read in flight at the release may still land, then a poller
    // would read at least every 500 ms; none may come in the next 1.5 s.
    await new Promise((r) => setTimeout(r, 600));
    const quiet = sim.requests.length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(watchRequests(quiet)).toEqual([]);
  });

  it('the last replica out removes the kit watcher and its stored state', async () => {
    const live = replicas.filter((_, i) => i !== killed);
    expect(live).toHaveLength(2);
    const d = '/home/user/shared-w2';
    await mkdir(host(d), { recursive: true });
    const start = sim.requests.length;
    const acs = live.map(() => new AbortController());
    let heard = 0;
    await Promise.all(live.map((r, i) => r.h.watches.follow(sim.containerId, d, true, () => void (i === 1 && (heard += 1)), acs[i]!.signal)));
    await expect.poll(() => watchersPolled(start).size, { timeout: 5_000 }).toBe(1);
    const [id] = watchersPolled(start);
    const keys = `hoody-mcp:*:watch:${sim.containerId}:${createHash('sha256').update(d).digest('hex').slice(0, 24)}`;
    const members = async () => {
      const [k] = await raw.keys(`${keys}:in`);
      return k ? raw.zcard(k) : 0;
    };
    expect(await members()).toBe(2);
    // One replica leaves: the other still follows through the same watcher, which stays.
    acs[0]!.abort();
    await expect.poll(members, { timeout: 5_000 }).toBe(1);
    const deleted = () => watchRequests(start).some((q) => q.method === 'DELETE' && q.path === `/watchers/${id}`);
    await writeFile(host(`${d}/y`), 'y');
    await expect.poll(() => heard, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(deleted()).toBe(false);
    expect(watchersCreated(start)).toBe(1);
    acs[1]!.abort();
    await expect.poll(deleted, { timeout: 5_000 }).toBe(true);
    await expect.poll(() => raw.keys(`${keys}:*`), { timeout: 5_000 }).toEqual([]);
  });
});

describe('a subscriber leaving and one coming back at once on one replica', () => {
  it('keeps the one watcher (the leaving group does not remove what the new one follows)', async () => {
    const r = replicas.find((_, i) => i !== killed)!;
    const d = '/home/user/shared-w5';
    await mkdir(host(d), { recursive: true });
    const start = sim.requests.length;
    const first = new AbortController();
    await r.h.watches.follow(sim.containerId, d, true, () => undefined, first.signal);
    let heard = 0;
    const second = new AbortController();
    first.abort();
    await r.h.watches.follow(sim.containerId, d, true, () => (heard += 1), second.signal);
    await writeFile(host(`${d}/z`), 'z');
    await expect.poll(() => heard, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(watchersCreated(start)).toBe(1);
    expect(watchRequests(start).filter((q) => q.method === 'DELETE')).toEqual([]);
    second.abort();
  });
});

describe('a shared store that does not answer', () => {
  it('falls back to following from this replica: the subscriber still hears the change', async () => {
    const shared = await openShared(redis.url);
    await shared.close();
    const h = new Hoody({ apiUrl: sim.apiUrl, shared }, sim.token);
    const d = '/home/user/shared-w3';
    await mkdir(host(d), { recursive: true });
    let heard = 0;
    const ac = new AbortController();
    await h.watches.follow(sim.containerId, d, true, () => (heard += 1), ac.signal);
    await writeFile(host(`${d}/x`), 'x');
    await expect.poll(() => heard, { timeout: 5_000 }).toBeGreaterThan(0);
    ac.abort();
  });

  it('a store lost while following: after the lease would have run out, this replica follows the kit itself', async () => {
    const shared = await openShared(redis.url);
    const h = new Hoody({ apiUrl: sim.apiUrl, shared }, sim.token);
    const d = '/home/user/shared-w4';
    await mkdir(host(d), { recursive: true });
    let heard = 0;
    const ac = new AbortController();
    await h.watches.follow(sim.containerId, d, true, () => (heard += 1), ac.signal);
    await shared.close();
    const lost = Date.now();
    let n = 0;
    // Changes keep coming; once it follows by itself (about LEASE_MS after the loss) it hears them.
    await expect.poll(async () => (await writeFile(host(`${d}/x${n++}`), 'x'), heard), { timeout: 8_000, interval: 200 }).toBeGreaterThan(0);
    expect(Date.now() - lost).toBeGreaterThanOrEqual(2_000);
    ac.abort();
  });

  it('a lease renewal answered after the last subscriber left gives the lease back: no follower is left behind', async () => {
    // A store whose lease answers can be held back, as a slow Redis would.
    let gate: Promise<void> | undefined;
    let open = () => undefined as void;
    let waiting = 0;
    const gated = (inner: Shared): Shared =>
      new Proxy(inner, {
        get(target, prop, receiver) {
          if (prop === 'scope') return (ns: string) => gated(target.scope(ns));
          if (prop === 'lease') {
            return async (key: string, ttl: number) => {
              if (gate) {
                waiting += 1;
                await gate;
                waiting -= 1;
              }
              return target.lease(key, ttl);
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    const inner = await openShared(redis.url);
    const h = new Hoody({ apiUrl: sim.apiUrl, shared: gated(inner) }, sim.token);
    try {
      const d = '/home/user/shared-w5';
      await mkdir(host(d), { recursive: true });
      const base = held;
      const ac = new AbortController();
      await h.watches.follow(sim.containerId, d, true, () => undefined, ac.signal);
      await expect.poll(() => held, { timeout: 3_000, interval: 20 }).toBe(base + 1);
      gate = new Promise<void>((r) => (open = r));
      await expect.poll(() => waiting, { timeout: 3_000, interval: 20 }).toBe(1); // a tick waits on its renewal
      ac.abort(); // the last subscriber leaves: lease released, count out
      await expect.poll(holder, { timeout: 1_500, interval: 20 }).toBeUndefined();
      gate = undefined;
      open(); // the renewal now takes the free lease
      await new Promise((r) => setTimeout(r, 600));
      expect(held).toBe(base);
      expect(await holder()).toBeUndefined();
      const quiet = sim.requests.length;
      await new Promise((r) => setTimeout(r, 1_500));
      expect(watchRequests(quiet)).toEqual([]);
    } finally {
      await inner.close();
    }
  });
});
