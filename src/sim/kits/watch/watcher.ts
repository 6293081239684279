/**
 * One watcher: the inotify watches on the host sandbox directories behind its container paths, and
 * the coalescing that turns raw notifications into events.
 *
 * One non-recursive `fs.watch` (inotify) per directory, so files written by the files kit and by
 * terminal commands (which write into the same directories through the mount namespace) both show
 * up. Raw notifications only mark paths dirty; after `coalesce_ms` the watcher stats every dirty
 * path and diffs it against what it knew (net effect per window): appeared → `created`, gone →
 * `removed`, same inode changed → `modified` (size/mtime) or `metadata` (mode/owner/ctime), a gone
 * and an appeared path with the same inode → one `renamed` with `old_path` [S:11030].
 *
 * Choices where the seeds are silent: a newly created regular file with content yields `created`
 * (new_size_bytes 0) then `modified`, as live-verified on the real kit [S:10957]; a path that
 * appears and disappears inside one coalesce window is dropped (e.g. the files kit's upload temp
 * file, renamed onto the target); a path replaced in place (new inode, not paired with a rename) is
 * `modified`.
 */
import { lstatSync, readdirSync, watch, type FSWatcher, type Stats } from 'node:fs';
import path from 'node:path';
import type { SimCore } from '../../state.js';
import { globToRegExp } from '../glob.js';
import { History, type WatchStats } from './history.js';
import { WATCH_LIMITS, type Config, type Kind, type RawEvent, type Root } from './types.js';

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

/** A dirty path at flush time: what was known before and what is there now. */
interface Item {
  host: string;
  root: Root;
  changed: boolean;
  before?: Snap;
  now?: Snap;
}

/** How the items of one flush pair up into renames. */
interface Pairing {
  /** appeared item → the disappeared item it was renamed from */
  sourceOf: Map<Item, Item>;
  isSource: Set<Item>;
  /** disappeared item → where it is now, inside a directory renamed in the same window */
  movedInto: Map<Item, Item>;
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

const appeared = (i: Item): boolean => !!i.now && (!i.before || !sameInode(i.before, i.now));
const disappeared = (i: Item): boolean => !!i.before && (!i.now || !sameInode(i.before, i.now));

function under(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent + path.sep);
}

/** Glob matcher for include/exclude: the path relative to the watched root, its basename, or the container path. */
function patternMatcher(glob: string): (rel: string, abs: string) => boolean {
  const re = globToRegExp(glob);
  const baseOnly = !glob.includes('/');
  return (rel, abs) => re.test(rel) || re.test(abs) || re.test(abs.slice(1)) || (baseOnly && re.test(path.posix.basename(rel)));
}

export class Watcher {
  readonly createdAt = new Date().toISOString();
  readonly stats: WatchStats = { events_seen: 0, events_broadcast: 0, events_dropped: 0, stream_errors: 0, active_clients: 0 };
  readonly history: History;
  private readonly known = new Map<string, Snap>();
  private readonly dirs = new Map<string, FSWatcher>();
  private readonly dirty = new Map<string, { changed: boolean }>();
  private flushTimer?: NodeJS.Timeout;
  private closed = false;
  private scanned = 0;
  private readonly include: Array<(rel: string, abs: string) => boolean>;
  private readonly exclude: Array<(rel: string, abs: string) => boolean>;
  private readonly ignore: Set<string>;
  private readonly kinds?: Set<Kind>;

  constructor(
    private readonly core: SimCore,
    /** Hands out the kit's process-global event ids [S:11002]. */
    private readonly nextEventId: () => number,
    readonly id: string,
    readonly config: Config,
    private readonly roots: Root[],
    private readonly skipHidden: boolean,
  ) {
    this.include = config.include.map(patternMatcher);
    this.exclude = config.exclude.map(patternMatcher);
    this.ignore = new Set(config.ignore_dirs);
    if (config.kinds) this.kinds = new Set(config.kinds);
    this.history = new History(core, id, { events: config.history_size, bytes: config.history_limit_bytes }, this.stats);
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
    this.flushTimer ??= this.core.later(this.config.coalesce_ms, () => {
      this.flushTimer = undefined;
      this.flush();
    });
  }

  /* ------------------------------------------------------------------ coalescing */

  private flush(): void {
    if (this.closed) return;
    const items = this.takeDirty();
    const pairing = this.pair(items);
    const ms = Date.now();
    const out: RawEvent[] = [];
    for (const i of items) this.classify(i, pairing, out);
    this.rebase(items, pairing);
    for (const e of out) this.emit(e, ms);
  }

  /** The dirty paths (within a root, not skipped) with their before/now snapshots. */
  private takeDirty(): Item[] {
    const items: Item[] = [];
    for (const [host, d] of this.dirty) {
      const root = this.rootFor(host);
      if (!root) continue;
      const item: Item = { host, root, changed: d.changed, before: this.known.get(host), now: snapOf(host) };
      if (this.skipped(root, host, item.now?.isDir ?? item.before?.isDir)) continue;
      items.push(item);
    }
    this.dirty.clear();
    return items;
  }

  /** Pairs the halves of renames by inode, including paths moved into a directory renamed in this window. */
  private pair(items: Item[]): Pairing {
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
    return { sourceOf, isSource, movedInto };
  }

  private event(i: Item, kind: Kind, extra: { new?: number | null; old?: number | null; oldPath?: string | null } = {}): RawEvent {
    const isDir = (i.now ?? i.before)?.isDir ?? false;
    return {
      kind, path: this.containerPath(i.root, i.host), rel: this.rel(i.root, i.host), is_dir: isDir,
      new_size_bytes: isDir ? null : (extra.new ?? null), old_size_bytes: isDir ? null : (extra.old ?? null), old_path: extra.oldPath ?? null,
    };
  }

  /** A write is `created` (size 0) then `modified` [S:10957]. */
  private created(i: Item, out: RawEvent[]): void {
    const now = i.now as Snap;
    if (!now.isDir && now.size > 0) out.push(this.event(i, 'created', { new: 0 }), this.event(i, 'modified', { new: now.size, old: 0 }));
    else out.push(this.event(i, 'created', { new: now.size }));
  }

  /** The net effect of one dirty path over the window, as events appended to `out`. */
  private classify(i: Item, { sourceOf, isSource, movedInto }: Pairing, out: RawEvent[]): void {
    const { before, now } = i;
    const src = sourceOf.get(i);
    if (src) {
      out.push(this.event(i, 'renamed', { new: now?.size, old: src.before?.size, oldPath: this.containerPath(src.root, src.host) }));
    } else if (now && before && !sameInode(before, now)) {
      if (isSource.has(i) || before.isDir !== now.isDir) {
        if (!isSource.has(i)) out.push(this.event({ ...i, now: undefined }, 'removed', { old: before.size }));
        this.created(i, out);
      } else out.push(this.event(i, 'modified', { new: now.size, old: before.size }));
    } else if (now && !before) {
      this.created(i, out);
    } else if (before && !now) {
      const to = movedInto.get(i);
      if (to) out.push(this.event(to, 'renamed', { new: to.now?.size, old: before.size, oldPath: this.containerPath(i.root, i.host) }));
      else if (!isSource.has(i)) out.push(this.event(i, 'removed', { old: before.size }));
    } else if (before && now) {
      const sizes = { new: now.size, old: before.size };
      if (!now.isDir && (now.size !== before.size || now.mtime !== before.mtime)) out.push(this.event(i, 'modified', sizes));
      else if (now.mode !== before.mode || now.uid !== before.uid || now.gid !== before.gid || now.ctime !== before.ctime) out.push(this.event(i, 'metadata', sizes));
      else if (i.changed && !now.isDir) out.push(this.event(i, 'modified', sizes));
    }
  }

  /** Updates the baseline and the set of watched directories after a flush. */
  private rebase(items: Item[], { sourceOf }: Pairing): void {
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
  }

  /** Filters (kinds, include, exclude — exclude wins [S:10978]), numbers and records one event. */
  private emit(e: RawEvent, ms: number): void {
    this.stats.events_seen++;
    if (this.kinds && !this.kinds.has(e.kind)) return;
    const oldRel = e.old_path;
    if (this.include.length && !this.include.some((m) => m(e.rel, e.path) || (oldRel !== null && m(path.posix.basename(oldRel), oldRel)))) return;
    if (this.exclude.some((m) => m(e.rel, e.path))) return;
    this.history.push({
      id: this.nextEventId(), watcher_id: this.id, kind: e.kind, path: e.path, timestamp: new Date(ms).toISOString(), is_dir: e.is_dir,
      new_size_bytes: e.new_size_bytes, old_size_bytes: e.old_size_bytes, old_path: e.old_path, details: null,
    }, ms);
  }

  /* ------------------------------------------------------------------ lifecycle */

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.core.cancel(this.flushTimer);
    this.flushTimer = undefined;
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
    this.history.close();
    this.dirty.clear();
    this.known.clear();
  }

  view(): Record<string, unknown> {
    return { id: this.id, created_at: this.createdAt, config: this.config, stats: { ...this.stats } };
  }
}
