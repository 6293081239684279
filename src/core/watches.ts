/**
 * File watching with a resumable cursor. A cursor is `<watcherId>@<lastEventId>`: passing it back
 * continues strictly after that event on the same watcher, so nothing is lost between calls.
 * Watchers are reused per container + path set and cleaned up when the kit's limit is hit.
 */
import { HoodyError } from './errors.js';
import type { EventPage, WatchEvent, WatchKit } from './kits/watch.js';
import { poll, resumable, type StreamEvent } from './streams.js';
import type { Shared } from './shared.js';
import type { SharedWatches } from './shared-watch.js';
import { observe } from '../observe.js';

export interface WatchResult {
  events: WatchEvent[];
  cursor: string;
  /** More events are buffered after the last one returned. */
  more: boolean;
}

interface Store {
  get(key: string): string | undefined;
  set(key: string, v: string): void;
  delete(key: string): void;
}

export function parseCursor(cursor: string): { watcherId: string; sinceId: number } {
  const m = /^([0-9a-fA-F-]{36})@(\d+)$/.exec(cursor.trim());
  if (!m) throw new HoodyError({ kind: 'bad_request', source: 'watch', message: `"${cursor}" is not a watch cursor`, next: { code: 'pass_cursor' } });
  return { watcherId: m[1]!, sinceId: Number(m[2]) };
}

export class Watches {
  readonly #mine: string[] = [];
  #shared?: Promise<SharedWatches>;

  constructor(
    private readonly kit: WatchKit,
    private readonly store: Store,
    /** This credential's shared store (--redis); absent: every follow stays in process. */
    private readonly shared?: Shared,
  ) {}

  #key(containerId: string, paths: string[]) {
    return `${containerId}:${[...paths].sort().join('\0')}`;
  }

  async #watcherFor(containerId: string, paths: string[], signal?: AbortSignal): Promise<{ id: string; fresh: boolean }> {
    const key = this.#key(containerId, paths);
    const known = this.store.get(key);
    if (known) return { id: known, fresh: false };
    let id: string;
    try {
      id = await this.kit.create(containerId, paths, signal);
    } catch (err) {
      // 128 watchers per kit [S:10848]: make room by dropping our oldest, once.
      if (!(err instanceof HoodyError && err.code === 'LIMIT_EXCEEDED' && this.#mine.length)) throw err;
      await this.kit.remove(containerId, this.#mine.shift()!, signal).catch(() => undefined);
      id = await this.kit.create(containerId, paths, signal);
    }
    this.store.set(key, id);
    this.#mine.push(id);
    return { id, fresh: true };
  }

  /**
   * Call `changed` whenever `path` (a file, or anything under a directory) changes, until `signal`
   * aborts. A file is watched through its directory, so editors that replace it by rename are
   * seen. Resolves once the watcher is in place. Transient failures resume from the cursor; a lost
   * cursor re-arms the watch and reports a change (the state may have moved); repeated failures
   * end the watch. With a shared store (--redis), one replica follows the kit for all of them
   * (shared-watch.ts).
   */
  async follow(containerId: string, path: string, isDir: boolean, changed: () => void, signal: AbortSignal): Promise<void> {
    const dir = isDir ? path : path.slice(0, path.lastIndexOf('/')) || '/';
    if (this.shared) return (await this.#sharedWatches()).follow(containerId, dir, path, isDir, changed, signal);
    return this.#followDir(containerId, dir, (b) => (!b || b.some((e) => isDir || e.path === path || e.oldPath === path)) && changed(), signal);
  }

  /** The in-process follow of one directory: every batch of changes (`null`: cursor lost, re-armed). */
  async #followDir(containerId: string, dir: string, onBatch: (b: WatchEvent[] | null) => void, signal: AbortSignal): Promise<void> {
    const arm = async (s: AbortSignal) => (await this.wait(containerId, { paths: [dir], until: Date.now(), signal: s })).cursor;
    const batches = resumable<WatchEvent[] | null>({
      since: await arm(signal),
      signal,
      source: 'watch',
      reopen: () => 0,
      retryable: () => true,
      open: (cursor, s) => this.#batches(containerId, cursor!, [dir], s),
    });
    // This replica follows the kit for this subscriber: an upstream watcher held, for /metrics.
    observe.gauge('watchers', 1);
    void (async () => {
      for await (const b of batches) onBatch(b.data);
    })()
      .catch(() => undefined)
      .finally(() => observe.gauge('watchers', -1));
  }

  /** The cross-replica follower, loaded on first use (only --redis needs it). */
  #sharedWatches(): Promise<SharedWatches> {
    return (this.#shared ??= import('./shared-watch.js').then(
      ({ SharedWatches }) =>
        new SharedWatches(
          this.shared!,
          this.kit,
          (c, since, until, signal) => this.wait(c, { since, until, signal }),
          (c, dir, onBatch, signal) => this.#followDir(c, dir, onBatch, signal),
        ),
    ));
  }

  /** Leave every cross-replica watch (drain): leases are released for another replica to take. */
  async close(): Promise<void> {
    if (this.#shared) await (await this.#shared).close();
  }

  /** One long wait from `cursor` as stream events: a batch of changes, or `null` when the cursor was lost and the watch re-armed. */
  async *#batches(containerId: string, cursor: string, paths: string[], signal: AbortSignal): AsyncGenerator<StreamEvent<WatchEvent[] | null>> {
    let r: WatchResult;
    try {
      r = await this.wait(containerId, { since: cursor, until: Date.now() + 25_000, signal });
    } catch (err) {
      if (!(err instanceof HoodyError && err.next?.code === 'drop_cursor')) throw err;
      if (err.kind === 'not_found') this.store.delete(this.#key(containerId, paths));
      yield { id: (await this.wait(containerId, { paths, until: Date.now(), signal })).cursor, data: null };
      return;
    }
    if (r.events.length) yield { id: r.cursor, data: r.events };
  }

  /** One page of events after `sinceId`; a lost cursor says so and what to do. */
  async #page(containerId: string, watcherId: string, sinceId: number | undefined, signal?: AbortSignal) {
    try {
      return await this.kit.events(containerId, watcherId, sinceId, signal);
    } catch (err) {
      if (err instanceof HoodyError && (err.kind === 'not_found' || err.code === 'HISTORY_GAP')) {
        err.next = { code: 'drop_cursor' };
        err.message = err.code === 'HISTORY_GAP' ? 'the cursor is older than the events the kit still holds' : 'the watcher behind this cursor is gone';
      }
      throw err;
    }
  }

  /**
   * Events after the cursor (or, without one, from now on), waiting up to `until` for the first.
   */
  async wait(containerId: string, opts: { paths?: string[]; since?: string; until: number; signal?: AbortSignal }): Promise<WatchResult> {
    let watcherId: string;
    let sinceId: number | undefined;
    if (opts.since) {
      ({ watcherId, sinceId } = parseCursor(opts.since));
    } else {
      if (!opts.paths?.length) throw new HoodyError({ kind: 'bad_request', source: 'watch', message: 'no paths to watch', hint: 'pass paths, or a since cursor' });
      const w = await this.#watcherFor(containerId, opts.paths, opts.signal);
      watcherId = w.id;
      if (!w.fresh) sinceId = (await this.kit.events(containerId, watcherId, undefined, opts.signal)).newest ?? 0;
    }
    const pages = poll({
      read: (s) => this.#page(containerId, watcherId, sinceId, s),
      interval: (n) => Math.min(500, 100 * 2 ** n),
      until: opts.until,
      signal: opts.signal,
      source: 'watch',
    });
    let page: EventPage | undefined;
    for await (page of pages) if (page.events.length) break;
    const last = page!.events.at(-1)?.id ?? sinceId ?? 0;
    return { events: page!.events, cursor: `${watcherId}@${last}`, more: page!.newest !== undefined && page!.newest > last };
  }
}
