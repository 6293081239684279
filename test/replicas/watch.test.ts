/**
 * Three replicas behind nginx (deploy/nginx.conf), sharing Redis: subscribers to one container's
 * file, spread over the replicas, cost the watch kit ONE upstream watcher, and every subscriber
 * hears each change — also after the replica holding that watcher is killed (kill -9): another
 * takes the watcher over, and subscribers whose stream was cut re-listen through nginx.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import type { McpSubscription } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, waitFor, type Connected } from '../helpers/shared.js';
import { metric, startCluster, type Cluster } from '../helpers/replicas.js';

let t: Cluster;
beforeAll(async () => {
  t = await startCluster();
});
afterAll(async () => {
  await Promise.all(subs.map((s) => s.stop()));
  await t?.close();
});

const FILE = '/home/user/shared/watched.txt';
let uri: string;
const watchReqs = () => t.sim.requests.filter((q) => q.host === 'watch' && q.containerId === t.sim.containerId);
/** Watchers created at the watch kit (POST /watchers answered 2xx), all replicas together. */
const watchersCreated = () => watchReqs().filter((q) => q.method === 'POST' && q.path === '/watchers' && q.status < 300).length;
/** Distinct watchers whose events were read since `since` (epoch ms): the upstream watches in use. */
const watchersRead = (since: number) =>
  new Set(watchReqs().filter((q) => q.at >= since && q.method === 'GET').flatMap((q) => /^\/watchers\/([0-9a-f-]{36})\/events/.exec(q.path)?.[1] ?? [])).size;
const watchersHeld = async () => Promise.all(t.replicas.map(async (r) => (r.alive() ? metric(await r.metrics(), 'hoody_mcp_upstream_watchers') : 0)));

/** A 2026-07-28 client listening to `uri` through nginx; re-listens, as a client would, when its stream ends. */
class Subscriber {
  readonly updates: string[] = [];
  relistens = 0;
  #sub?: McpSubscription;
  #stopped = false;
  constructor(readonly c: Connected) {
    c.client.setNotificationHandler('notifications/resources/updated', (n) => void this.updates.push(n.params.uri));
  }
  get listening() {
    return !!this.#sub;
  }
  async listen(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const sub = await this.c.client.listen({ resourceSubscriptions: [uri] });
        expect(sub.honoredFilter.resourceSubscriptions).toEqual([uri]);
        this.#sub = sub;
        void sub.closed.then((why) => {
          this.#sub = undefined;
          if (why === 'local' || this.#stopped) return;
          this.relistens++;
          void this.listen();
        });
        return;
      } catch (err) {
        if (this.#stopped || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  async stop() {
    this.#stopped = true;
    await this.#sub?.close().catch(() => undefined);
    await this.c.close().catch(() => undefined);
  }
}
const subs: Subscriber[] = [];

describe('one upstream watcher for 30 subscribers on three replicas', () => {
  it('30 subscribers spread over the replicas: one watcher at the kit, every subscriber hears a change', async () => {
    mkdirSync(t.sim.containerPath(t.sim.containerId, '/home/user/shared'), { recursive: true });
    writeFileSync(t.sim.containerPath(t.sim.containerId, FILE), 'v1');
    uri = `hoody://containers/${t.sim.containerId}/files${FILE}`;
    const t0 = Date.now();
    subs.push(...(await Promise.all(Array.from({ length: 30 }, async () => new Subscriber(await t.connect('2026-07-28'))))));
    await Promise.all(subs.map((s) => s.listen()));
    // Spread: every replica holds some of the 30 listen streams (round robin).
    // (A listen is acknowledged before its replica has the subscription in place: poll.)
    let perReplica: number[] = [];
    const subscribed = async () => (perReplica = await Promise.all(t.replicas.map(async (r) => metric(await r.metrics(), 'hoody_mcp_subscriptions')))).reduce((a, b) => a + b) === 30;
    await waitFor('30 subscriptions held by the replicas', subscribed).catch(() => undefined);
    expect(perReplica.reduce((a, b) => a + b), `subscriptions per replica: ${perReplica}`).toBe(30);
    expect(perReplica.every((n) => n > 0), `subscriptions per replica: ${perReplica}`).toBe(true);

    await waitFor('the watcher behind the subscriptions', () => watchersCreated() >= 1);
    const lb = await t.connect('2025-11-25');
    const w = await call(lb.client, 'file_write', { container: t.sim.containerId, path: FILE, content: 'v2' });
    expect(w.isError, w.text).toBe(false);
    await waitFor('every subscriber to hear the change', () => subs.every((s) => s.updates.includes(uri)), { timeoutMs: 10_000 });
    await lb.close();

    expect(watchersCreated()).toBe(1);
    expect(watchersRead(Date.now() - 2000)).toBe(1);
    expect(watchersRead(t0)).toBe(1);
    expect((await watchersHeld()).reduce((a, b) => a + b)).toBe(1);
  });

  it('the replica holding the watcher is killed: another takes over within seconds, no subscriber misses the next change', async () => {
    const held = await watchersHeld();
    const holder = held.findIndex((n) => n > 0);
    expect(held.filter((n) => n > 0), `watchers held per replica: ${held}`).toEqual([1]);
    const victim = t.replicas[holder]!;
    const heard = subs.map((s) => s.updates.length);

    const killedAt = Date.now();
    await victim.kill9();
    const newHolder = await waitFor(
      'another replica to take the watcher over',
      async () => {
        const now = await watchersHeld();
        return now.reduce((a, b) => a + b) === 1 ? now.findIndex((n) => n > 0) + 1 : 0;
      },
      { timeoutMs: 15_000, everyMs: 100 },
    );
    const takeoverMs = Date.now() - killedAt;
    console.log(`watcher taken over by replica ${newHolder} ${takeoverMs} ms after replica ${victim.n} was killed`);
    expect(newHolder).not.toBe(victim.n);
    expect(takeoverMs).toBeLessThan(10_000);

    // Subscribers whose stream was on the dead replica saw it end and listened again through nginx.
    await waitFor('every subscriber to listen again', () => subs.every((s) => s.listening), { timeoutMs: 15_000 });
    expect(subs.some((s) => s.relistens > 0)).toBe(true);

    const lb = await t.connect('2026-07-28');
    const w = await call(lb.client, 'file_write', { container: t.sim.containerId, path: FILE, content: 'v3' });
    expect(w.isError, w.text).toBe(false);
    await waitFor('every subscriber to hear the next change', () => subs.every((s, i) => s.updates.length > heard[i]!), { timeoutMs: 10_000 });
    await lb.close();
    expect(watchersRead(Date.now() - 2000)).toBe(1);
  });

  it('no log line of any replica, nor of nginx, carries the token', () => {
    expect(t.replicas.some((r) => r.logs().length > 0)).toBe(true);
    expect(t.tokenSeenIn()).toEqual([]);
  });
});
