/**
 * One container's watchers (the real kit runs once per container, so limits are per container).
 * Only container-owned paths (/home, /root, /tmp, /srv, /workspace, /hoody, /data) can be watched;
 * others → 400 INVALID_REQUEST (InvalidPath): the sim puts no inotify watches on the host.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ContainerRec } from '../../records.js';
import { isOwned, mapPath, normalizeContainerPath, PathError, resolveContainerPath } from '../../sandbox.js';
import type { SimCore } from '../../state.js';
import type { KitState } from '../base.js';
import { invalid, watchError, WATCH_LIMITS, type Config, type Root } from './types.js';
import { Watcher } from './watcher.js';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export class WatchState implements KitState {
  private readonly watchers = new Map<string, Watcher>();

  constructor(
    private readonly core: SimCore,
    private readonly container: ContainerRec,
    /** The kit's process-global event ids [S:11002]. */
    private readonly nextEventId: () => number,
  ) {}

  /** In creation order. */
  list(): Watcher[] {
    return [...this.watchers.values()];
  }

  /** 409 LIMIT_EXCEEDED when the container has its maximum of watchers. */
  checkRoom(): void {
    if (this.watchers.size >= WATCH_LIMITS.maxWatchers) throw watchError(409, 'LIMIT_EXCEEDED', 'watcher limit reached');
  }

  /** A watcher by id (with or without dashes); non-UUID → 400 (axum's extractor), unknown → 404. */
  find(raw: string): Watcher {
    if (!UUID_RE.test(raw)) throw watchError(400, 'INVALID_REQUEST', `Invalid URL: Cannot parse \`${raw}\` as a UUID`);
    const hex = raw.replace(/-/g, '').toLowerCase();
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const w = this.watchers.get(id);
    if (!w) throw watchError(404, 'WATCHER_NOT_FOUND', 'Watcher not found');
    return w;
  }

  /** Container paths → watch roots; they must exist and be container-owned. */
  async roots(paths: string[]): Promise<Root[]> {
    const sandbox = this.core.sandboxRoot(this.container.id);
    const roots: Root[] = [];
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
      if (!isOwned(resolved)) {
        throw invalid('InvalidPath', `invalid path: ${raw} (the simulator watches only /home, /root, /tmp, /srv, /workspace, /hoody, /data)`, { path: raw });
      }
      const host = mapPath(sandbox, resolved);
      const st = await stat(host).catch(() => undefined);
      if (!st) throw invalid('PathNotFound', `path not found: ${p}`, { path: p });
      roots.push({ path: p, host, file: !st.isDirectory() });
    }
    return roots;
  }

  /** Starts a watcher; a failure to watch (ENOSPC …) → 500 WATCHER_START_FAILED. */
  create(config: Config, roots: Root[], skipHidden: boolean): Watcher {
    this.checkRoom();
    const w = new Watcher(this.core, this.nextEventId, randomUUID(), config, roots, skipHidden);
    try {
      w.start();
    } catch (e) {
      w.close();
      throw watchError(500, 'WATCHER_START_FAILED', `failed to start watcher: ${(e as Error).message}`);
    }
    this.watchers.set(w.id, w);
    return w;
  }

  remove(w: Watcher): void {
    w.close();
    this.watchers.delete(w.id);
  }

  /** The kit is a process in the container: stop/restart/restore/delete lose every watcher. */
  stop(): void {
    for (const w of this.list()) this.remove(w);
  }
}
