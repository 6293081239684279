/**
 * watch kit client (seed-kits-exec-files.md §4): inotify watchers at `/watchers` (host root, not
 * /api/v1/watch [S:671]); history polled with `?since_id=` (strictly after; `Last-Event-ID` is
 * ignored [S:765]); a cursor older than the buffer is 409 HISTORY_GAP [S:10862].
 */
import { HoodyError } from '../errors.js';
import { readJson } from '../http.js';
import type { Kits } from '../kits.js';

export type WatchKind = 'created' | 'modified' | 'removed' | 'renamed' | 'metadata' | 'overflow' | 'other';

export interface WatchEvent {
  id: number;
  kind: WatchKind;
  path: string;
  oldPath?: string;
  isDir: boolean;
  timestamp?: string;
  size?: number;
}

export interface EventPage {
  events: WatchEvent[];
  /** The newest id the kit holds (a cursor that skips nothing seen). */
  newest?: number;
  total?: number;
}

function toEvent(e: Record<string, unknown>): WatchEvent {
  return {
    id: Number(e.id),
    kind: String(e.kind ?? 'other') as WatchKind,
    path: String(e.path ?? ''),
    oldPath: typeof e.old_path === 'string' ? e.old_path : undefined,
    isDir: e.is_dir === true,
    timestamp: typeof e.timestamp === 'string' ? e.timestamp : undefined,
    size: typeof e.new_size_bytes === 'number' ? e.new_size_bytes : undefined,
  };
}

export class WatchKit {
  constructor(private readonly kits: Kits) {}

  async create(containerId: string, paths: string[], signal?: AbortSignal): Promise<string> {
    const res = await this.kits.request(containerId, 'watch', {
      method: 'POST',
      path: '/watchers',
      body: { paths, recursive: true },
      idempotent: false,
      signal,
    });
    // Top-level `id` [S:10887]; some examples read `.data.id` [S:767].
    const body = await readJson<{ id?: string; data?: { id?: string } }>(res, 'watch');
    const id = body?.id ?? body?.data?.id;
    if (!id) throw new HoodyError({ kind: 'server', source: 'watch', message: 'the watch kit returned no watcher id' });
    return id;
  }

  async remove(containerId: string, watcherId: string, signal?: AbortSignal): Promise<void> {
    const res = await this.kits.request(containerId, 'watch', { method: 'DELETE', path: `/watchers/${encodeURIComponent(watcherId)}`, signal });
    if (res.status === 404) return void (await res.body.dump());
    await readJson(res, 'watch');
  }

  /** Events strictly after `sinceId` (all buffered ones without it), oldest first. */
  async events(containerId: string, watcherId: string, sinceId: number | undefined, signal?: AbortSignal): Promise<EventPage> {
    const res = await this.kits.request(containerId, 'watch', {
      method: 'GET',
      path: `/watchers/${encodeURIComponent(watcherId)}/events`,
      query: { since_id: sinceId, limit: 200 },
      signal,
    });
    const body = await readJson<{ items?: Record<string, unknown>[]; events?: Record<string, unknown>[]; newest_available_id?: number; total?: number }>(
      res,
      'watch',
    );
    const events = (body?.items ?? body?.events ?? []).map(toEvent).sort((a, b) => a.id - b.id);
    return { events, newest: typeof body?.newest_available_id === 'number' ? body.newest_available_id : undefined, total: body?.total };
  }
}
