import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisShared, redactUrl } from '../../src/core/shared-redis.js';
import { credentialSpace, openShared, type Shared } from '../../src/core/shared.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let a: Shared;
let b: Shared;

beforeAll(async () => {
  redis = await startRedis();
  a = await openShared(redis.url);
  b = await openShared(redis.url);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

describe('shared store on a real redis-server', () => {
  it('keeps JSON values under a namespace, expiring them', async () => {
    const x = a.scope('one');
    await x.set('k', { n: 1 }, 200);
    expect(await b.scope('one').get('k')).toEqual({ n: 1 });
    expect(await b.scope('two').get('k')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(await x.get('k')).toBeUndefined();
  });

  it('setIfAbsent lets one of many win', async () => {
    const wins = await Promise.all([a, b, a, b].map((s, i) => s.setIfAbsent('lock', i, 5_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('a lease is held by one replica, renewed by it, taken over after it lapses', async () => {
    expect(a.replica).not.toBe(b.replica);
    expect(await a.lease('L', 300)).toBe(true);
    expect(await b.lease('L', 300)).toBe(false);
    expect(await a.lease('L', 300)).toBe(true);
    await b.release('L'); // not b's: no effect
    expect(await b.lease('L', 300)).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.lease('L', 300)).toBe(true);
    await b.release('L');
    expect(await a.lease('L', 300)).toBe(true);
  });

  it('pub/sub reaches every replica subscribed, until it stops', async () => {
    const heardA: unknown[] = [];
    const heardB: unknown[] = [];
    const stopA = await a.scope('c').subscribe('ch', (m) => heardA.push(m));
    const stopB = await b.scope('c').subscribe('ch', (m) => heardB.push(m));
    await a.scope('c').publish('ch', { x: 1 });
    await a.scope('other').publish('ch', { x: 2 });
    // Each replica's own connection delivers in its own time: wait for both.
    await expect.poll(() => heardB.length).toBe(1);
    await expect.poll(() => heardA.length).toBe(1);
    expect(heardA).toEqual([{ x: 1 }]);
    expect(heardB).toEqual([{ x: 1 }]);
    await stopB();
    await a.scope('c').publish('ch', { x: 3 });
    await expect.poll(() => heardA.length).toBe(2);
    expect(heardB).toHaveLength(1);
    await stopA();
  });

  it('admission counts places and starts across replicas in one step', async () => {
    const admitted = [];
    // 4 starts a minute, 3 at once: three in, the fourth finds no place (and takes no start).
    for (let i = 0; i < 4; i++) admitted.push(await (i % 2 ? a : b).admit('adm:run', `c${i}`, 3, 10_000, 'adm:rate', 4));
    expect(admitted).toEqual([{}, {}, {}, { running: 3 }]);
    await a.leave('adm:run', 'c0');
    expect(await b.admit('adm:run', 'c4', 3, 10_000, 'adm:rate', 4)).toEqual({}); // the 4th start
    await a.leave('adm:run', 'c1');
    const empty = await a.admit('adm:run', 'c5', 3, 10_000, 'adm:rate', 4);
    expect(empty.waitS).toBeGreaterThan(0);
    expect(empty.waitS).toBeLessThanOrEqual(15);
    // Refused for the rate, it was not counted in: two places are taken (c2, c4), one is free.
    expect(await b.enter('adm:run', 'probe', 3, 1_000)).toBeUndefined();
  });

  it('counted places are shared, released, and lapse', async () => {
    expect(await a.enter('run', 'x', 2, 10_000)).toBeUndefined();
    expect(await b.enter('run', 'y', 2, 300)).toBeUndefined();
    expect(await b.enter('run', 'z', 2, 10_000)).toBe(2);
    await a.leave('run', 'x');
    expect(await b.enter('run', 'z', 2, 10_000)).toBeUndefined();
    expect(await a.enter('run', 'w', 2, 10_000)).toBe(2);
    await new Promise((r) => setTimeout(r, 400)); // y lapsed
    expect(await a.enter('run', 'w', 2, 10_000)).toBeUndefined();
  });

  it('ping says whether the store answers; a dead URL fails to open within seconds, password hidden', async () => {
    expect(await a.ping()).toBe(true);
    const t = Date.now();
    const err = await RedisShared.open('redis://:s3cret@127.0.0.1:1').catch((e: Error) => e);
    // Says where, why (not ioredis's bare "Connection is closed.") and what to do; never the password.
    expect((err as Error).message).toMatch(/^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: connect ECONNREFUSED .* — start it there, or fix --redis \/ HOODY_REDIS_URL$/);
    expect((err as Error).message).not.toContain('s3cret');
    expect(Date.now() - t).toBeLessThan(5_000);
    expect(redactUrl('redis://u:pw@h:1/0')).not.toContain('pw');
  });

  it('the credential namespace is a hash, not the token', () => {
    const ns = credentialSpace('https://api.x', undefined, 'hdy_secret');
    expect(ns).toMatch(/^[0-9a-f]{32}$/);
    expect(ns).not.toContain('secret');
    expect(credentialSpace('https://api.x', undefined, 'hdy_other')).not.toBe(ns);
  });
});
