/**
 * The `watch` kit: inotify watchers at the host ROOT (`/watchers…`, not /api/v1/watch [S:671]),
 * health at `/api/v1/watch/health` (seed-kits-exec-files.md §4, checklist §4.6).
 *
 * A watcher watches the host sandbox directories behind its container paths with one
 * non-recursive `fs.watch` (inotify) per directory, so files written by the files kit and by
 * terminal commands (which write into the same directories through the mount namespace) both show
 * up. Raw notifications only mark paths dirty; after `coalesce_ms` the watcher stats every dirty
 * path and diffs it against what it knew (net effect per window): appeared → `created`, gone →
 * `removed`, same inode changed → `modified` (size/mtime) or `metadata` (mode/owner/ctime), a gone
 * and an appeared path with the same inode → one `renamed` with `old_path` [S:11030]. Events carry
 * container paths, process-global monotonic ids [S:11002], and land in a per-watcher replay buffer
 * (100 000 events / 16 MiB [S:10848]) served by `/events` (poll) and `/events/sse`.
 *
 * Choices where the seeds are silent:
 * - `POST /watchers` answers 201 (a creation; the body is the same as `GET /watchers/{id}`).
 * - Watcher limits are per container (the real kit runs once per container).
 * - Only container-owned paths (/home, /root, /tmp, /srv, /workspace, /hoody, /data) can be watched;
 *   others → 400 INVALID_REQUEST (InvalidPath). The sim does not put inotify watches on the host.
 * - A newly created regular file with content yields `created` (new_size_bytes 0) then `modified`,
 *   as live-verified on the real kit [S:10957]; a path that appears and disappears inside one
 *   coalesce window is dropped (e.g. the files kit's upload temp file, renamed onto the target).
 * - A path replaced in place (new inode, not paired with a rename) is `modified`.
 * - HISTORY_GAP is exact: the cursor is older than the newest EVICTED event (nothing would be lost
 *   otherwise). `details.requested_cursor` is the since_id number or the since_timestamp string.
 * - Config view: `include`/`exclude` default to `[]`, `kinds` to null (all), `ignore_dirs` to the
 *   resolved list; `history_size` is clamped to the 100 000 cap.
 * - Non-UUID ids answer a JSON 400 INVALID_REQUEST (axum's extractor answers plain text).
 * - Mid-stream `event: lag` happens when an SSE client's unsent backlog exceeds `lagBytes`.
 * - WebSocket (`events/ws`) is not simulated: 501 NOT_IMPLEMENTED.
 */
import { randomUUID } from 'node:crypto';
import { lstatSync, readdirSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { Router, type Params } from '../router.js';
import { isOwned, mapPath, normalizeContainerPath, PathError, resolveContainerPath } from '../sandbox.js';
import type { KitRuntime, SimCore } from '../state.js';
import { BadJson, readJsonObject, sendEmpty, sendJson } from '../util.js';
import { globToRegExp } from './glob.js';
import type { KitContext, KitFactory } from './types.js';

/**
 * Hard limits [S:10848] and stream timings. Read at request/creation time, so a test may lower them
 * (and must restore them); they are not part of the wire contract.
 */
export const WATCH_LIMITS = {
  maxWatchers: 128,
  maxPaths: 32,
  maxClients: 64,
  historyEvents: 100_000,
  historyBytes: 16 * 1024 * 1024,
  /** SSE comment keepalive interval [S:837]. */
  keepaliveMs: 10_000,
  /** An SSE client whose unsent backlog exceeds this gets `event: lag` and is closed. */
  lagBytes: 4 * 1024 * 1024,
  /** Entries indexed when a watcher starts (beyond: no baseline, deeper dirs unwatched). */
  maxScan: 100_000,
};

export const DEFAULT_IGNORE_DIRS = [
  'node_modules', '.git', 'target', '__pycache__', '.hg', '.svn', '.cache', 'dist', '.next', '.nuxt', 'vendor', 'bower_components',
]; // [S:10847]

const KINDS = ['created', 'modified', 'removed', 'renamed', 'metadata', 'overflow', 'other'] as const;
type Kind = (typeof KINDS)[number];

interface WatchEvent {
  id: number;
  watcher_id: string;
  kind: Kind;
  path: string;
  timestamp: string;
  is_dir: boolean;
  new_size_bytes: number | null;
  old_size_bytes: number | null;
  old_path: string | null;
  details: string | null;
}

interface Stored {
  ev: WatchEvent;
  ms: number;
  json: string;
  bytes: number;
}

interface Snap {
  ino: number;
  dev: number;
  birth: number;
  size: number;
  mtime: number;
  ctime: number;
  mode: number;
  uid: number;
  gid: number;
  isDir: boolean;
}

interface Root {
  /** Container path as requested (normalised). */
  path: string;
  /** Host path of its symlink-resolved target. */
  host: string;
  file: boolean;
}

interface Client {
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

interface Config {
  paths: string[];
  recursive: boolean;
  include: string[];
  exclude: string[];
  ignore_dirs: string[];
  kinds: Kind[] | null;
  coalesce_ms: number;
  history_size: number;
  history_limit_bytes: number;
}

class WatchError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
  ) {
    super(message);
  }
}

function snapOf(host: string): Snap | undefined {
  let st: Stats | undefined;
  try {
    st = lstatSync(host, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (!st) return undefined;
  return {
    ino: st.ino, dev: st.dev, birth: st.birthtimeMs, size: st.size, mtime: st.mtimeMs, ctime: st.ctimeMs, mode: st.mode,
    uid: st.uid, gid: st.gid, isDir: st.isDirectory(),
  };
}

/** Same inode incarnation (birth time guards against inode reuse after a delete). */
function sameInode(a: Snap, b: Snap): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.isDir === b.isDir && (!a.birth || !b.birth || a.birth === b.birth);
}

function under(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent + path.sep);
}

/** Glob matcher for include/exclude: the path relative to the watched root, its basename, or the container path. */
function patternMatcher(glob: string): (rel: string, abs: string) => boolean {
  const re = globToRegExp(glob);
  const baseOnly = !glob.includes('/');
  return (rel, abs) => re.test(rel) || re.test(abs) || re.test(abs.slice(1)) || (baseOnly && re.test(path.posix.basename(rel)));
}

/** State shared by all watchers of the kit. */
interface Shared {
  core: SimCore;
  nextEventId: number;
}

class Watcher {
  readonly createdAt = new Date().toISOString();
  readonly stats = { events_seen: 0, events_broadcast: 0, events_dropped: 0, stream_errors: 0, active_clients: 0 };
  readonly clients = new Set<Client>();
  private readonly known = new Map<string, Snap>();
  private readonly dirs = new Map<string, FSWatcher>();
  private readonly dirty = new Map<string, { changed: boolean }>();
  private flushTimer?: NodeJS.Timeout;
  private buf: Stored[] = [];
  private head = 0;
  private bytes = 0;
  /** Newest event evicted from the replay buffer (cursors older than it have a gap). */
  private evicted?: { id: number; ms: number };
  private closed = false;
  private scanned = 0;
  private readonly include: Array<(rel: string, abs: string) => boolean>;
  private readonly exclude: Array<(rel: string, abs: string) => boolean>;
  private readonly ignore: Set<string>;
  private readonly kinds?: Set<Kind>;

  constructor(
    private readonly shared: Shared,
    readonly id: string,
    readonly containerId: string,
    readonly config: Config,
    private readonly roots: Root[],
    private readonly skipHidden: boolean,
  ) {
    this.include = config.include.map(patternMatcher);
    this.exclude = config.exclude.map(patternMatcher);
    this.ignore = new Set(config.ignore_dirs);
    if (config.kinds) this.kinds = new Set(config.kinds);
  }

  /* ------------------------------------------------------------------ watching */

  /** Indexes the trees and opens the inotify watches; throws (ENOSPC …) → WATCHER_START_FAILED. */
  start(): void {
    for (const r of this.roots) {
      if (r.file) {
        this.watchDir(path.dirname(r.host), true);
        const s = snapOf(r.host);
        if (s) this.known.set(r.host, s);
      } else {
        this.watchDir(r.host, true);
        this.scan(r.host, r, 'baseline');
      }
    }
  }

  private rootFor(host: string): Root | undefined {
    for (const r of this.roots) {
      if (r.file) {
        if (host === r.host) return r;
      } else if (host !== r.host && under(r.host, host) && (this.config.recursive || path.dirname(host) === r.host)) return r;
    }
    return undefined;
  }

  private rel(r: Root, host: string): string {
    return r.file ? path.basename(host) : host.slice(r.host.length + 1).split(path.sep).join('/');
  }

  private containerPath(r: Root, host: string): string {
    return r.file ? r.path : `${r.path}/${this.rel(r, host)}`;
  }

  /** skip_hidden and ignore_dirs (a directory component, or the path itself when it is a directory). */
  private skipped(r: Root, host: string, isDir: boolean | undefined): boolean {
    if (r.file) return false;
    const parts = this.rel(r, host).split('/');
    if (this.skipHidden && parts.some((p) => p.startsWith('.'))) return true;
    for (let i = 0; i < parts.length - 1; i++) if (this.ignore.has(parts[i] as string)) return true;
    return isDir === true && this.ignore.has(parts[parts.length - 1] as string);
  }

  /** Returns false when the directory was already watched. */
  private watchDir(dir: string, strict = false): boolean {
    if (this.dirs.has(dir) || this.closed) return false;
    let w: FSWatcher;
    try {
      w = watch(dir, (type, name) => this.raw(dir, type, name));
    } catch (e) {
      if (strict) throw e;
      return false;
    }
    w.on('error', () => this.unwatch(dir));
    this.dirs.set(dir, w);
    return true;
  }

  private unwatch(dir: string): void {
    for (const [d, w] of this.dirs) {
      if (under(dir, d)) {
        w.close();
        this.dirs.delete(d);
      }
    }
  }

  /**
   * Walks a directory: `baseline` records what exists (no events), `dirty` marks every entry so
   * the next flush reports it (a new directory's contents, which may predate its watch).
   */
  private scan(dir: string, r: Root, mode: 'baseline' | 'dirty'): void {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (this.scanned >= WATCH_LIMITS.maxScan && mode === 'baseline') return;
      const host = path.join(dir, e.name);
      const isDir = e.isDirectory();
      if (this.skipped(r, host, isDir)) continue;
      if (mode === 'baseline') {
        this.scanned++;
        const s = snapOf(host);
        if (s) this.known.set(host, s);
      } else this.mark(host, false);
      if (isDir && this.config.recursive) {
        this.watchDir(host);
        this.scan(host, r, mode);
      }
    }
  }

  /** Every entry below `dir` (bounded), for rename pairing inside a moved directory. */
  private collect(dir: string, out: Array<{ host: string; snap: Snap }>): void {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (out.length >= 10_000) return;
      const host = path.join(dir, n);
      const snap = snapOf(host);
      if (!snap) continue;
      out.push({ host, snap });
      if (snap.isDir) this.collect(host, out);
    }
  }

  private raw(dir: string, type: string, name: string | Buffer | null): void {
    if (this.closed) return;
    if (name === null) {
      // The kernel did not say which entry: re-examine the whole directory.
      for (const h of this.known.keys()) if (path.dirname(h) === dir) this.mark(h, true);
      try {
        for (const n of readdirSync(dir)) this.mark(path.join(dir, n), true);
      } catch {
        /* gone */
      }
      return;
    }
    const host = path.join(dir, name.toString());
    const r = this.rootFor(host);
    if (!r || this.skipped(r, host, undefined)) return;
    this.mark(host, type === 'change');
  }

  private mark(host: string, changed: boolean): void {
    const d = this.dirty.get(host);
    if (d) d.changed ||= changed;
    else this.dirty.set(host, { changed });
    this.flushTimer ??= this.shared.core.later(this.config.coalesce_ms, () => {
      this.flushTimer = undefined;
      this.flush();
    });
  }

  /* ------------------------------------------------------------------ coalescing */

  private flush(): void {
    if (this.closed) return;
    interface Item {
      host: string;
      root: Root;
      changed: boolean;
      before?: Snap;
      now?: Snap;
    }
    const items: Item[] = [];
    for (const [host, d] of this.dirty) {
      const root = this.rootFor(host);
      if (!root) continue;
      const item: Item = { host, root, changed: d.changed, before: this.known.get(host), now: snapOf(host) };
      if (this.skipped(root, host, item.now?.isDir ?? item.before?.isDir)) continue;
      items.push(item);
    }
    this.dirty.clear();
    const appeared = (i: Item): boolean => !!i.now && (!i.before || !sameInode(i.before, i.now));
    const disappeared = (i: Item): boolean => !!i.before && (!i.now || !sameInode(i.before, i.now));
    // Pair the halves of renames by inode.
    const sourceOf = new Map<Item, Item>();
    const isSource = new Set<Item>();
    for (const a of items) {
      if (!appeared(a)) continue;
      const src = items.find((d) => d !== a && !isSource.has(d) && disappeared(d) && sameInode(d.before as Snap, a.now as Snap));
      if (src) {
        sourceOf.set(a, src);
        isSource.add(src);
      }
    }
    // A path moved into a directory that was itself renamed in this window is found inside it.
    const movedInto = new Map<Item, Item>();
    const orphans = items.filter((d) => d.before && !d.now && !isSource.has(d));
    if (orphans.length) {
      const inside: Array<{ host: string; snap: Snap }> = [];
      for (const a of sourceOf.keys()) if (a.now?.isDir) this.collect(a.host, inside);
      for (const d of orphans) {
        const hit = inside.find((x) => sameInode(d.before as Snap, x.snap));
        const root = hit && this.rootFor(hit.host);
        if (hit && root) movedInto.set(d, { host: hit.host, root, changed: false, now: hit.snap });
      }
    }

    const ms = Date.now();
    const out: Array<Omit<WatchEvent, 'id' | 'watcher_id' | 'timestamp' | 'details'> & { rel: string }> = [];
    const push = (i: Item, kind: Kind, extra: { new?: number | null; old?: number | null; oldPath?: string | null } = {}): void => {
      const isDir = (i.now ?? i.before)?.isDir ?? false;
      out.push({
        kind, path: this.containerPath(i.root, i.host), rel: this.rel(i.root, i.host), is_dir: isDir,
        new_size_bytes: isDir ? null : (extra.new ?? null), old_size_bytes: isDir ? null : (extra.old ?? null), old_path: extra.oldPath ?? null,
      });
    };
    const created = (i: Item): void => {
      const now = i.now as Snap;
      if (!now.isDir && now.size > 0) {
        // A write is `created` (size 0) then `modified` [S:10957].
        push(i, 'created', { new: 0 });
        push(i, 'modified', { new: now.size, old: 0 });
      } else push(i, 'created', { new: now.size });
    };
    for (const i of items) {
      const { before, now } = i;
      const src = sourceOf.get(i);
      if (src) {
        push(i, 'renamed', { new: now?.size, old: src.before?.size, oldPath: this.containerPath(src.root, src.host) });
      } else if (now && before && !sameInode(before, now)) {
        if (isSource.has(i) || before.isDir !== now.isDir) {
          if (!isSource.has(i)) push({ ...i, now: undefined }, 'removed', { old: before.size });
          created(i);
        } else push(i, 'modified', { new: now.size, old: before.size });
      } else if (now && !before) {
        created(i);
      } else if (before && !now) {
        const to = movedInto.get(i);
        if (to) push(to, 'renamed', { new: to.now?.size, old: before.size, oldPath: this.containerPath(i.root, i.host) });
        else if (!isSource.has(i)) push(i, 'removed', { old: before.size });
      } else if (before && now) {
        if (!now.isDir && (now.size !== before.size || now.mtime !== before.mtime)) push(i, 'modified', { new: now.size, old: before.size });
        else if (now.mode !== before.mode || now.uid !== before.uid || now.gid !== before.gid || now.ctime !== before.ctime) push(i, 'metadata', { new: now.size, old: before.size });
        else if (i.changed && !now.isDir) push(i, 'modified', { new: now.size, old: before.size });
      }
    }

    // Update the baseline and the set of watched directories.
    for (const i of items) {
      const { before, now } = i;
      if (before?.isDir && (!now || !sameInode(before, now))) {
        for (const h of [...this.known.keys()]) if (h.startsWith(i.host + path.sep)) this.known.delete(h);
        this.unwatch(i.host);
      }
      if (now) this.known.set(i.host, now);
      else this.known.delete(i.host);
    }
    for (const i of items) {
      const now = i.now;
      if (!now?.isDir || !this.config.recursive || i.root.file || (i.before && sameInode(i.before, now))) continue;
      if (!this.watchDir(i.host)) continue;
      // A renamed-in directory brings known contents; a new one may already hold entries.
      this.scan(i.host, i.root, sourceOf.has(i) ? 'baseline' : 'dirty');
    }

    for (const e of out) this.emit(e, ms);
  }

  /* ------------------------------------------------------------------ history + broadcast */

  private emit(e: Omit<WatchEvent, 'id' | 'watcher_id' | 'timestamp' | 'details'> & { rel: string }, ms: number): void {
    this.stats.events_seen++;
    if (this.kinds && !this.kinds.has(e.kind)) return;
    const oldRel = e.old_path;
    if (this.include.length && !this.include.some((m) => m(e.rel, e.path) || (oldRel !== null && m(path.posix.basename(oldRel), oldRel)))) return;
    if (this.exclude.some((m) => m(e.rel, e.path))) return; // exclude wins [S:10978]
    const ev: WatchEvent = {
      id: this.shared.nextEventId++, watcher_id: this.id, kind: e.kind, path: e.path, timestamp: new Date(ms).toISOString(), is_dir: e.is_dir,
      new_size_bytes: e.new_size_bytes, old_size_bytes: e.old_size_bytes, old_path: e.old_path, details: null,
    };
    const json = JSON.stringify(ev);
    const stored: Stored = { ev, ms, json, bytes: Buffer.byteLength(json) };
    this.buf.push(stored);
    this.bytes += stored.bytes;
    while (this.buf.length - this.head > 1 && (this.buf.length - this.head > this.config.history_size || this.bytes > this.config.history_limit_bytes)) {
      const old = this.buf[this.head++] as Stored;
      this.bytes -= old.bytes;
      this.evicted = { id: old.ev.id, ms: old.ms };
    }
    if (this.head > 1024 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    this.stats.events_broadcast++;
    for (const c of [...this.clients]) this.send(c, stored);
  }

  retained(): Stored[] {
    return this.buf.slice(this.head);
  }

  /** Events strictly after the cursor; HISTORY_GAP when evicted events lie after it. */
  after(cursor: Cursor): Stored[] {
    const all = this.retained();
    if (cursor.kind === 'none') return all;
    const ev = this.evicted;
    const gap = ev && (cursor.kind === 'id' ? cursor.id < ev.id : cursor.ms < ev.ms);
    if (gap) {
      const oldest = all[0]?.ev.id ?? null;
      const newest = all[all.length - 1]?.ev.id ?? null;
      throw new WatchError(409, 'HISTORY_GAP', `Requested ${cursor.kind === 'id' ? 'since_id' : 'since_timestamp'} is older than available replay history`,
        JSON.stringify({ oldest_available_id: oldest, newest_available_id: newest, requested_cursor: cursor.raw }));
    }
    const key = (s: Stored): boolean => (cursor.kind === 'id' ? s.ev.id > cursor.id : s.ms > cursor.ms);
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(all[mid] as Stored)) hi = mid;
      else lo = mid + 1;
    }
    return all.slice(lo);
  }

  /* ------------------------------------------------------------------ SSE clients */

  attach(res: ServerResponse, replay: Stored[]): void {
    const c: Client = { res };
    this.clients.add(c);
    this.stats.active_clients = this.clients.size;
    const drop = (): void => {
      this.shared.core.cancel(c.timer);
      if (this.clients.delete(c)) this.stats.active_clients = this.clients.size;
    };
    res.on('close', drop);
    res.on('error', () => {
      this.stats.stream_errors++;
      drop();
    });
    const tick = (): void => {
      if (!this.clients.has(c)) return;
      res.write(': keepalive\n\n');
      c.timer = this.shared.core.later(WATCH_LIMITS.keepaliveMs, tick);
    };
    c.timer = this.shared.core.later(WATCH_LIMITS.keepaliveMs, tick);
    for (const s of replay) this.send(c, s);
  }

  private send(c: Client, s: Stored): void {
    if (!this.clients.has(c)) return;
    if (c.res.writableLength > WATCH_LIMITS.lagBytes) {
      // The client cannot keep up: tell it, then close (data loss → re-list) [S:10865].
      this.stats.events_dropped++;
      this.stats.stream_errors++;
      c.res.write(`event: lag\ndata: ${JSON.stringify({ type: 'lag', watcher_id: this.id, last_event_id: s.ev.id, message: 'client lagged behind the event stream; resume with since_id or re-list' })}\n\n`);
      this.endClient(c);
      return;
    }
    c.res.write(`id: ${s.ev.id}\nevent: file_event\ndata: ${s.json}\n\n`);
  }

  private endClient(c: Client): void {
    this.shared.core.cancel(c.timer);
    this.clients.delete(c);
    this.stats.active_clients = this.clients.size;
    c.res.end();
  }

  /* ------------------------------------------------------------------ lifecycle */

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.shared.core.cancel(this.flushTimer);
    this.flushTimer = undefined;
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
    for (const c of [...this.clients]) this.endClient(c);
    this.dirty.clear();
    this.known.clear();
  }

  view(): Record<string, unknown> {
    return { id: this.id, created_at: this.createdAt, config: this.config, stats: { ...this.stats } };
  }
}

type Cursor = { kind: 'none' } | { kind: 'id'; id: number; raw: number } | { kind: 'ts'; ms: number; raw: string };

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function parseCursor(q: URLSearchParams): Cursor {
  const sid = q.get('since_id');
  const sts = q.get('since_timestamp');
  if (sid !== null && sts !== null) throw new WatchError(400, 'INVALID_CURSOR', 'since_id and since_timestamp are mutually exclusive');
  if (sid !== null) {
    if (!/^\d+$/.test(sid)) throw new WatchError(400, 'INVALID_CURSOR', `Invalid since_id: ${sid}`);
    return { kind: 'id', id: Number(sid), raw: Number(sid) };
  }
  if (sts !== null) {
    let ms: number;
    if (/^-?\d+(?:\.\d+)?$/.test(sts)) {
      const n = Number(sts);
      ms = Math.abs(n) >= 100_000_000_000 ? n : n * 1000; // [S:10851]
    } else if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/.test(sts)) {
      ms = Date.parse(sts.replace(' ', 'T'));
    } else ms = NaN;
    if (!Number.isFinite(ms)) throw new WatchError(400, 'INVALID_CURSOR', `Invalid since_timestamp: ${sts}`);
    return { kind: 'ts', ms, raw: sts };
  }
  return { kind: 'none' };
}

function pagination(q: URLSearchParams): { page: number; limit: number } {
  const p = q.get('page');
  const l = q.get('limit');
  const page = p === null || p === '' ? 1 : /^\d+$/.test(p) ? Number(p) : NaN;
  const limit = l === null || l === '' ? 50 : /^\d+$/.test(l) ? Number(l) : NaN;
  if (!(page >= 1)) throw new WatchError(400, 'INVALID_PAGINATION', 'Page must be >= 1');
  if (!(limit >= 1 && limit <= 200)) throw new WatchError(400, 'INVALID_PAGINATION', 'Limit must be between 1 and 200');
  return { page, limit };
}

function invalid(reason: string, message: string, extra: Record<string, unknown> = {}): WatchError {
  return new WatchError(400, 'INVALID_REQUEST', message, JSON.stringify({ reason, ...extra }));
}

function stringList(b: Record<string, unknown>, key: string): string[] | null {
  const v = b[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid('InvalidRequest', `${key} must be an array of strings`);
  return v as string[];
}

function optBool(b: Record<string, unknown>, key: string): boolean | null {
  const v = b[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'boolean') throw invalid('InvalidRequest', `${key} must be a boolean`);
  return v;
}

function optInt(b: Record<string, unknown>, key: string, min: number, max: number): number | null {
  const v = b[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid('InvalidRequest', `${key} must be an integer between ${min} and ${max}`);
  return v;
}

export const createWatchKit: KitFactory = (core: SimCore): KitRuntime => {
  const started = new Date().toISOString();
  const shared: Shared = { core, nextEventId: 1 };
  const watchers = new Map<string, Watcher>();

  function find(ctx: KitContext, raw: string): Watcher {
    if (!UUID_RE.test(raw)) throw new WatchError(400, 'INVALID_REQUEST', `Invalid URL: Cannot parse \`${raw}\` as a UUID`);
    const hex = raw.replace(/-/g, '').toLowerCase();
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const w = watchers.get(id);
    if (!w || w.containerId !== ctx.container.id) throw new WatchError(404, 'WATCHER_NOT_FOUND', 'Watcher not found');
    return w;
  }

  function ofContainer(containerId: string): Watcher[] {
    return [...watchers.values()].filter((w) => w.containerId === containerId);
  }

  async function create(ctx: KitContext): Promise<void> {
    let b: Record<string, unknown>;
    try {
      b = await readJsonObject(ctx.req);
    } catch (e) {
      if (e instanceof BadJson) throw invalid('InvalidJson', `Failed to parse the request body as JSON: ${e.message}`);
      throw e;
    }
    const paths = stringList(b, 'paths');
    if (!paths || paths.length === 0) throw invalid('EmptyPaths', 'path list cannot be empty');
    if (paths.length > WATCH_LIMITS.maxPaths) throw new WatchError(409, 'LIMIT_EXCEEDED', `too many paths (max ${WATCH_LIMITS.maxPaths})`);
    if (ofContainer(ctx.container.id).length >= WATCH_LIMITS.maxWatchers) throw new WatchError(409, 'LIMIT_EXCEEDED', 'watcher limit reached');
    const include = stringList(b, 'include') ?? [];
    const exclude = stringList(b, 'exclude') ?? [];
    for (const g of [...include, ...exclude]) {
      try {
        if (!g) throw new Error('empty pattern');
        globToRegExp(g);
      } catch {
        throw invalid('InvalidPattern', `invalid glob pattern: ${g}`, { pattern: g });
      }
    }
    const ignoreDirs = stringList(b, 'ignore_dirs') ?? DEFAULT_IGNORE_DIRS;
    for (const d of ignoreDirs) if (!d || d.includes('/') || d === '.' || d === '..') throw invalid('InvalidIgnoreDir', `invalid ignore_dirs entry: ${d}`, { ignore_dir: d });
    const kindList = stringList(b, 'kinds');
    for (const k of kindList ?? []) if (!(KINDS as readonly string[]).includes(k)) throw invalid('InvalidRequest', `unknown event kind: ${k}`);
    const recursive = optBool(b, 'recursive') ?? true;
    const skipHidden = optBool(b, 'skip_hidden') ?? false;
    const coalesce = optInt(b, 'coalesce_ms', 0, 60_000) ?? 100;
    const historySize = Math.min(optInt(b, 'history_size', 1, Number.MAX_SAFE_INTEGER) ?? WATCH_LIMITS.historyEvents, WATCH_LIMITS.historyEvents);

    const sandbox = core.sandboxRoot(ctx.container.id);
    const roots: Root[] = [];
    const shown: string[] = [];
    for (const raw of paths) {
      let p: string;
      let resolved: string;
      try {
        p = normalizeContainerPath(raw);
        resolved = await resolveContainerPath(sandbox, p);
      } catch (e) {
        if (e instanceof PathError) throw invalid('InvalidPath', `invalid path: ${raw}`, { path: raw });
        throw e;
      }
      if (!isOwned(resolved)) throw invalid('InvalidPath', `invalid path: ${raw} (the simulator watches only /home, /root, /tmp, /srv, /workspace, /hoody, /data)`, { path: raw });
      const host = mapPath(sandbox, resolved);
      const st = await stat(host).catch(() => undefined);
      if (!st) throw invalid('PathNotFound', `path not found: ${p}`, { path: p });
      roots.push({ path: p, host, file: !st.isDirectory() });
      shown.push(p);
    }
    if (ofContainer(ctx.container.id).length >= WATCH_LIMITS.maxWatchers) throw new WatchError(409, 'LIMIT_EXCEEDED', 'watcher limit reached');

    const config: Config = {
      paths: shown, recursive, include, exclude, ignore_dirs: [...ignoreDirs], kinds: kindList ? (kindList as Kind[]) : null,
      coalesce_ms: coalesce, history_size: historySize, history_limit_bytes: WATCH_LIMITS.historyBytes,
    };
    const w = new Watcher(shared, randomUUID(), ctx.container.id, config, roots, skipHidden);
    try {
      w.start();
    } catch (e) {
      w.close();
      throw new WatchError(500, 'WATCHER_START_FAILED', `failed to start watcher: ${(e as Error).message}`);
    }
    watchers.set(w.id, w);
    sendJson(ctx.res, 201, w.view());
  }

  function list(ctx: KitContext): void {
    const { page, limit } = pagination(ctx.query);
    const all = ofContainer(ctx.container.id);
    sendJson(ctx.res, 200, { items: all.slice((page - 1) * limit, page * limit).map((w) => w.view()), page, limit, total: all.length });
  }

  function remove(ctx: KitContext, id: string): void {
    const w = find(ctx, id);
    w.close();
    watchers.delete(w.id);
    sendJson(ctx.res, 200, { id: w.id, deleted: true });
  }

  function events(ctx: KitContext, id: string): void {
    const w = find(ctx, id);
    const { page, limit } = pagination(ctx.query);
    const cursor = parseCursor(ctx.query);
    const matched = w.after(cursor);
    const all = w.retained();
    const oldest = all[0];
    const newest = all[all.length - 1];
    sendJson(ctx.res, 200, {
      items: matched.slice((page - 1) * limit, page * limit).map((s) => s.ev), page, limit, total: matched.length,
      oldest_available_id: oldest?.ev.id ?? null, newest_available_id: newest?.ev.id ?? null,
      oldest_available_timestamp: oldest?.ev.timestamp ?? null, newest_available_timestamp: newest?.ev.timestamp ?? null,
    });
  }

  function sse(ctx: KitContext, id: string): void {
    const w = find(ctx, id);
    const cursor = parseCursor(ctx.query); // `Last-Event-ID` is ignored [S:765]
    const replay = cursor.kind === 'none' ? [] : w.after(cursor); // no cursor: live only
    if (core.closing) throw new WatchError(503, 'SHUTTING_DOWN', 'Service is shutting down');
    if (w.clients.size >= WATCH_LIMITS.maxClients) throw new WatchError(429, 'MAX_CLIENTS_REACHED', `too many stream clients (max ${WATCH_LIMITS.maxClients})`);
    ctx.res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    ctx.res.flushHeaders();
    w.attach(ctx.res, replay);
  }

  function health(ctx: KitContext): void {
    const mem = process.memoryUsage();
    sendJson(ctx.res, 200, {
      status: 'ok', service: 'watch', built: '2025-01-01T00:00:00Z', started, memory: { rss: mem.rss, heap: mem.heapUsed }, fds: 0,
      pid: process.pid, ip: '127.0.0.1', userAgent: String(ctx.req.headers['user-agent'] ?? ''),
    });
  }

  const router = new Router<KitContext>([
    { method: 'GET', pattern: '/api/v1/watch/health', handler: health },
    { method: 'POST', pattern: '/watchers', handler: create },
    { method: 'GET', pattern: '/watchers', handler: list },
    { method: 'GET', pattern: '/watchers/:id', handler: (ctx, p: Params) => sendJson(ctx.res, 200, find(ctx, p.id ?? '').view()) },
    { method: 'DELETE', pattern: '/watchers/:id', handler: (ctx, p: Params) => remove(ctx, p.id ?? '') },
    { method: 'GET', pattern: '/watchers/:id/events', handler: (ctx, p: Params) => events(ctx, p.id ?? '') },
    { method: 'GET', pattern: '/watchers/:id/events/sse', handler: (ctx, p: Params) => sse(ctx, p.id ?? '') },
    {
      method: 'GET', pattern: '/watchers/:id/events/ws', handler: (ctx, p: Params) => {
        find(ctx, p.id ?? '');
        throw new WatchError(501, 'NOT_IMPLEMENTED', 'WebSocket streams are not simulated; use /events/sse');
      },
    },
  ]);

  function closeAll(containerId?: string): void {
    for (const w of [...watchers.values()]) {
      if (containerId !== undefined && w.containerId !== containerId) continue;
      w.close();
      watchers.delete(w.id);
    }
  }

  return {
    slug: 'watch',
    async handle(ctx: KitContext): Promise<void> {
      try {
        const m = router.match(ctx.method, ctx.path);
        if (m.kind === 'method') return sendEmpty(ctx.res, 405, { Allow: m.allowed.join(', ') });
        if (m.kind === 'none') return sendEmpty(ctx.res, 404);
        await m.handler(ctx, m.params);
      } catch (e) {
        if (ctx.res.headersSent) {
          ctx.res.destroy();
          return;
        }
        if (e instanceof WatchError) sendJson(ctx.res, e.status, { code: e.code, message: e.message, details: e.details });
        else sendJson(ctx.res, 500, { code: 'INTERNAL_ERROR', message: (e as Error).message, details: null });
      }
    },
    /** The kit is a process in the container: stop/restart/restore/delete lose every watcher. */
    onStop(containerId: string): void {
      closeAll(containerId);
    },
    async close(): Promise<void> {
      closeAll();
    },
  };
};
