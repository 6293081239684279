/**
 * One upstream watcher per (credential, container, watched directory) across all replicas
 * (`--redis`). Every replica with local subscribers for a directory joins its group: it listens on
 * the group's channel and campaigns for its lease every LEASE_MS/3. The holder alone follows the
 * kit watcher and publishes each batch of changed paths (or "cursor lost: the state may have
 * moved"); every member, the holder included, hears the batch on the channel and calls its local
 * `changed()` callbacks after the same path filter as the in-process `follow`. The kit watcher id
 * and the holder's cursor are kept in the store after each published batch, so a replica that
 * takes the lease over (its holder died: no renewals, the lease expires within LEASE_MS) continues
 * from that cursor and re-publishes whatever happened in between: a change may be heard twice,
 * never lost. The last replica out removes the kit watcher.
 *
 * Why not the SDK's `ServerEventBus` (the `bus` option of `createMcpHandler`): it carries MCP
 * events (`resource_updated` with a URI) to the 2026-07-28 `subscriptions/listen` streams of one
 * handler. The fan-out here happens below that: the core knows nothing of MCP or URIs, one kit
 * watcher per directory serves every URI under it (the path filter runs per subscriber after the
 * fan-out), 2025-era `resources/subscribe` sessions need it too, and it needs a lease and a stored
 * cursor that a bus has no notion of. Each replica's per-credential in-memory bus (src/transports/
 * http.ts) stays as it is and is fed by the local `changed()`; an `EventStore` (SSE replay per
 * stream) solves a different problem. So the fan-out uses the core's `Shared` pub/sub directly.
 *
 * A store that fails never fails a subscription: a join that cannot reach it falls back to the
 * in-process follow; a group that loses it for LEASE_MS follows the kit from this replica until it
 * answers again.
 */
import { createHash } from 'node:crypto';
import { observe } from '../observe.js';
import { HoodyError } from './errors.js';
import { sleep } from './http.js';
import type { WatchEvent, WatchKit } from './kits/watch.js';
import type { Shared } from './shared.js';
import { parseCursor } from './watches.js';

/** How long a lease lasts unrenewed: a dead holder is replaced within about this (+ one tick). */
export const LEASE_MS = 3_000;
const TICK_MS = LEASE_MS / 3;
/** The kit watcher id and cursor outlive quiet spells; the holder refreshes them every tick. */
const STATE_MS = 10 * 60_000;
/** A member that stopped refreshing (a dead replica) no longer counts as interested after this. */
const MEMBER_MS = 3 * LEASE_MS;
/** Bounds: groups per credential on one replica, paths per published batch (the kit's page is 200 events). */
const MAX_GROUPS = 1_000;
const MAX_PATHS = 400;

/** A batch of changed paths, or `null`: the cursor was lost and the watch re-armed. */
export type Batch = WatchEvent[] | null;
/** Follow `dir` from this replica alone (the in-process path), calling `onBatch` for each batch. */
export type LocalFollow = (containerId: string, dir: string, onBatch: (b: Batch) => void, signal: AbortSignal) => Promise<void>;
/** Events after `cursor` (`watcherId@eventId`), waiting up to `until` (Watches.wait). */
export type WaitFrom = (containerId: string, cursor: string, until: number, signal: AbortSignal) => Promise<{ events: WatchEvent[]; cursor: string }>;

interface Sub {
  path: string;
  isDir: boolean;
  changed: () => void;
}
interface State {
  watcher: string;
  cursor: number;
}

class Group {
  readonly subs = new Set<Sub>();
  closed = false;
  ready!: Promise<void>;
  unlisten?: () => Promise<void>;
  timer?: NodeJS.Timeout;
  /** Set while this replica holds the lease and follows the kit. */
  holding?: AbortController;
  state?: State;
  renewedAt = 0;
  /** When the holder last stored the state (it is refreshed well before STATE_MS runs out). */
  savedAt = 0;
  ticking = false;
  /** Set while the store is unreachable and this replica follows the kit by itself. */
  local?: AbortController;

  constructor(
    readonly containerId: string,
    readonly dir: string,
    readonly key: string,
  ) {}
}

export class SharedWatches {
  readonly #groups = new Map<string, Group>();
  /** Groups on their way out (`#out`): a stopping replica waits for them before the store closes. */
  readonly #leaving = new Set<Promise<void>>();

  constructor(
    private readonly shared: Shared,
    private readonly kit: WatchKit,
    private readonly waitFrom: WaitFrom,
    private readonly local: LocalFollow,
  ) {}

  /** Groups this replica is in (for tests and metrics). */
  get size(): number {
    return this.#groups.size;
  }

  /** Call `changed` when `path` (in `dir`) changes, until `signal` aborts; resolves once the watch is in place. */
  async follow(containerId: string, dir: string, path: string, isDir: boolean, changed: () => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const key = `watch:${containerId}:${createHash('sha256').update(dir).digest('hex').slice(0, 24)}`;
    let g = this.#groups.get(key);
    if (!g) {
      if (this.#groups.size >= MAX_GROUPS) return this.local(containerId, dir, (b) => hears(pathsOf(b), { path, isDir, changed }), signal);
      g = new Group(containerId, dir, key);
      this.#groups.set(key, g);
      g.ready = this.#join(g);
    }
    const sub: Sub = { path, isDir, changed };
    g.subs.add(sub);
    const group = g;
    signal.addEventListener('abort', () => this.#leave(group, sub), { once: true });
    try {
      await g.ready;
    } catch {
      // The store did not answer: this subscriber follows the kit from here, as without --redis.
      group.subs.delete(sub);
      if (this.#groups.get(key) === group) this.#groups.delete(key);
      if (!signal.aborted) await this.local(containerId, dir, (b) => hears(pathsOf(b), sub), signal);
    }
  }

  /** Listen, count in, campaign once; resolves when a watcher is in place (ours, or the holder's). */
  async #join(g: Group): Promise<void> {
    g.unlisten = await this.shared.subscribe(`${g.key}:ev`, (m) => this.#hear(g, m));
    try {
      await this.shared.enter(`${g.key}:in`, this.shared.replica, 10_000, MEMBER_MS);
      if (await this.shared.lease(`${g.key}:lease`, LEASE_MS)) {
        g.renewedAt = Date.now();
        await this.#hold(g);
      } else {
        // Another replica holds it: its watcher is in place once its state is stored.
        for (let i = 0; i < 20 && !(await this.shared.get(`${g.key}:state`)); i++) await sleep(100);
      }
    } catch (err) {
      await g.unlisten().catch(() => undefined);
      throw err;
    }
    if (g.closed) return;
    g.timer = setInterval(() => void this.#tick(g), TICK_MS);
    g.timer.unref();
  }

  #hear(g: Group, m: unknown): void {
    if (g.local || !m || typeof m !== 'object') return;
    const msg = m as { lost?: unknown; paths?: unknown };
    const paths = msg.lost === true ? null : Array.isArray(msg.paths) ? msg.paths.filter((p): p is string => typeof p === 'string') : [];
    for (const s of [...g.subs]) hears(paths, s);
  }

  /** Renew or take the lease; hold or stop holding accordingly; fall back while the store fails. */
  async #tick(g: Group): Promise<void> {
    if (g.closed || g.ticking) return;
    g.ticking = true;
    try {
      const mine = await this.shared.lease(`${g.key}:lease`, LEASE_MS);
      await this.shared.enter(`${g.key}:in`, this.shared.replica, 10_000, MEMBER_MS);
      // The last subscriber left while this tick waited on the store: undo what it just did.
      if (g.closed) return void (await this.#quit(g, mine));
      if (g.local) {
        // The store answers again: the holder (maybe us) continues from the stored cursor.
        g.local.abort();
        g.local = undefined;
      }
      if (mine) g.renewedAt = Date.now();
      if (mine && !g.holding) await this.#hold(g);
      else if (!mine && g.holding) this.#unhold(g);
      else if (mine && g.state && Date.now() - g.savedAt > STATE_MS / 10) await this.#save(g, g.state);
    } catch {
      if (g.closed || Date.now() - g.renewedAt < LEASE_MS) return;
      // Our lease (if any) has run out and the store does not answer: follow the kit from here.
      this.#unhold(g);
      if (!g.local) {
        g.local = new AbortController();
        const ac = g.local;
        this.local(g.containerId, g.dir, (b) => !ac.signal.aborted && g.subs.forEach((s) => hears(pathsOf(b), s)), ac.signal).catch(() => undefined);
      }
    } finally {
      g.ticking = false;
    }
  }

  async #save(g: Group, state: State): Promise<void> {
    g.state = state;
    await this.shared.set(`${g.key}:state`, state, STATE_MS);
    g.savedAt = Date.now();
  }

  /** Start following the kit watcher from the stored cursor (arming one when there is none). */
  async #hold(g: Group): Promise<void> {
    const ac = new AbortController();
    g.holding = ac;
    observe.gauge('watchers', 1);
    try {
      g.state = (await this.shared.get<State>(`${g.key}:state`)) ?? (await this.#arm(g, ac.signal));
    } catch (err) {
      this.#unhold(g);
      await this.shared.release(`${g.key}:lease`).catch(() => undefined);
      throw err;
    }
    // Unheld while the state was read (the group closed, or the lease was lost): follow nothing.
    if (g.holding !== ac) return;
    void this.#follow(g, ac.signal).catch(() => undefined);
  }

  #unhold(g: Group): void {
    if (!g.holding) return;
    g.holding.abort();
    g.holding = undefined;
    observe.gauge('watchers', -1);
  }

  /** A new kit watcher on the group's directory; its state stored for whoever holds next. */
  async #arm(g: Group, signal: AbortSignal): Promise<State> {
    const state = { watcher: await this.kit.create(g.containerId, [g.dir], signal), cursor: 0 };
    await this.#save(g, state);
    return state;
  }

  /** The holder's loop: wait for events after the cursor, publish them, then store the new cursor. */
  async #follow(g: Group, signal: AbortSignal): Promise<void> {
    for (let failures = 0; !signal.aborted; ) {
      try {
        const st = g.state!;
        const r = await this.waitFrom(g.containerId, `${st.watcher}@${st.cursor}`, Date.now() + 25_000, signal);
        if (!r.events.length) continue;
        // More paths than a message carries: everyone hears it (as for a lost cursor), nobody misses it.
        const paths = pathsOf(r.events);
        // Published before the cursor moves: a holder dying in between makes its successor repeat
        // this batch (heard twice) rather than skip it.
        await this.shared.publish(`${g.key}:ev`, paths ? { paths } : { lost: true });
        if (signal.aborted) return;
        await this.#save(g, { watcher: st.watcher, cursor: parseCursor(r.cursor).sinceId });
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof HoodyError && err.next?.code === 'drop_cursor') {
          // The watcher is gone or the kit dropped our history: re-arm, and say the state may have moved.
          await this.kit.remove(g.containerId, g.state!.watcher, signal).catch(() => undefined);
          try {
            g.state = await this.#arm(g, signal);
          } catch {
            // No new watcher (the kit's limit, say): back off like any failure, announce nothing yet.
            failures += 1;
            await sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)), signal).catch(() => undefined);
            continue;
          }
          await this.shared.publish(`${g.key}:ev`, { lost: true }).catch(() => undefined);
          continue;
        }
        failures += 1;
        await sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)), signal).catch(() => undefined);
      }
    }
  }

  /** A subscriber left; the last one here takes this replica out of the group. */
  #leave(g: Group, sub: Sub): void {
    g.subs.delete(sub);
    if (g.subs.size || g.closed) return;
    if (this.#groups.get(g.key) === g) this.#groups.delete(g.key);
    this.#stop(g);
    const out: Promise<void> = this.#out(g)
      .catch(() => undefined)
      .finally(() => this.#leaving.delete(out));
    this.#leaving.add(out);
  }

  /** A tick that renewed after its group closed: give back the lease it took and its count. */
  async #quit(g: Group, leased: boolean): Promise<void> {
    this.#unhold(g);
    if (this.#groups.has(g.key)) return; // a new group here holds our place
    await this.shared.leave(`${g.key}:in`, this.shared.replica);
    if (leased) await this.shared.release(`${g.key}:lease`);
  }

  /** Stop a group's timer and following (and any local follow) on this replica. */
  #stop(g: Group): void {
    g.closed = true;
    clearInterval(g.timer);
    g.local?.abort();
    this.#unhold(g);
  }

  /** Unsubscribe, count out, release; the last replica out removes the kit watcher (unless `keepWatcher`). */
  async #out(g: Group, keepWatcher = false): Promise<void> {
    await g.ready.catch(() => undefined);
    this.#unhold(g); // a join still under way when the last subscriber left may have taken the lease
    await g.unlisten?.();
    // A new subscriber here already started a new group for this directory: it keeps our place.
    if (this.#groups.has(g.key)) return;
    await this.shared.leave(`${g.key}:in`, this.shared.replica);
    await this.shared.release(`${g.key}:lease`);
    if (keepWatcher) return;
    // Anyone still in? A probe that gets in where at most one may be means nobody is.
    const probe = `${this.shared.replica}:probe`;
    if ((await this.shared.enter(`${g.key}:in`, probe, 1, 5_000)) !== undefined) return;
    try {
      const st = await this.shared.get<State>(`${g.key}:state`);
      await this.shared.del(`${g.key}:state`);
      if (st) await this.kit.remove(g.containerId, st.watcher);
    } finally {
      await this.shared.leave(`${g.key}:in`, probe);
    }
  }

  /**
   * Leave every group at once (drain): leases released for another replica to take, watchers kept;
   * and wait for groups already on their way out, so none is cut off by the store closing.
   */
  async close(): Promise<void> {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const g of groups) this.#stop(g);
    await Promise.allSettled([...this.#leaving, ...groups.map((g) => this.#out(g, true))]);
  }

}

function call(f: () => void): void {
  try {
    f();
  } catch {
    /* one subscriber's failure is its own */
  }
}

/** The paths a batch names (renames by both names); null — "anything may have changed" — for a lost cursor or more than MAX_PATHS. */
function pathsOf(b: Batch): string[] | null {
  if (!b) return null;
  const paths = [...new Set(b.flatMap((e) => (e.oldPath ? [e.path, e.oldPath] : [e.path])))];
  return paths.length > MAX_PATHS ? null : paths;
}

/** The one filter, for the holder's fan-out and the in-process follow: a directory hears every batch; a file, those that name it. */
function hears(paths: string[] | null, s: Sub): void {
  if (!paths || s.isDir || paths.includes(s.path)) call(s.changed);
}
