/**
 * The `watch` kit: watchers at the host ROOT (`/watchers…`, not /api/v1/watch [S:671]), health at
 * `/api/v1/watch/health` (seed-kits-exec-files.md §4, checklist §4.6): the route table over
 * {@link WatchState}. Events carry container paths, process-global monotonic ids [S:11002], and land
 * in a per-watcher replay buffer (100 000 events / 16 MiB [S:10848]) served by `/events` (poll) and
 * `/events/sse`. Errors are `{code, message, details}`.
 *
 * Choices where the seeds are silent:
 * - `POST /watchers` answers 201 (a creation; the body is the same as `GET /watchers/{id}`).
 * - HISTORY_GAP is exact: the cursor is older than the newest EVICTED event (nothing would be lost
 *   otherwise). `details.requested_cursor` is the since_id number or the since_timestamp string.
 * - Config view: `include`/`exclude` default to `[]`, `kinds` to null (all), `ignore_dirs` to the
 *   resolved list; `history_size` is clamped to the 100 000 cap.
 * - Non-UUID ids answer a JSON 400 INVALID_REQUEST (axum's extractor answers plain text).
 * - Mid-stream `event: lag` happens when an SSE client's unsent backlog exceeds `lagBytes`.
 * - WebSocket (`events/ws`) is not simulated: 501 NOT_IMPLEMENTED.
 */
import type { Params, Route } from '../../router.js';
import type { SimCore } from '../../state.js';
import { sendJson } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import { globToRegExp } from '../glob.js';
import type { KitRuntime } from '../types.js';
import { WatchState } from './state.js';
import { DEFAULT_IGNORE_DIRS, invalid, KINDS, watchError, WATCH_LIMITS, type Config, type Cursor, type Kind } from './types.js';

type Req = KitRequest<WatchState>;

/* ------------------------------------------------------------------ parsing */

function parseCursor(q: URLSearchParams): Cursor {
  const sid = q.get('since_id');
  const sts = q.get('since_timestamp');
  if (sid !== null && sts !== null) throw watchError(400, 'INVALID_CURSOR', 'since_id and since_timestamp are mutually exclusive');
  if (sid !== null) {
    if (!/^\d+$/.test(sid)) throw watchError(400, 'INVALID_CURSOR', `Invalid since_id: ${sid}`);
    return { kind: 'id', id: Number(sid), raw: Number(sid) };
  }
  if (sts === null) return { kind: 'none' };
  let ms: number;
  if (/^-?\d+(?:\.\d+)?$/.test(sts)) {
    const n = Number(sts);
    ms = Math.abs(n) >= 100_000_000_000 ? n : n * 1000; // [S:10851]
  } else if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/.test(sts)) {
    ms = Date.parse(sts.replace(' ', 'T'));
  } else ms = NaN;
  if (!Number.isFinite(ms)) throw watchError(400, 'INVALID_CURSOR', `Invalid since_timestamp: ${sts}`);
  return { kind: 'ts', ms, raw: sts };
}

function pagination(q: URLSearchParams): { page: number; limit: number } {
  const p = q.get('page');
  const l = q.get('limit');
  const page = p === null || p === '' ? 1 : /^\d+$/.test(p) ? Number(p) : NaN;
  const limit = l === null || l === '' ? 50 : /^\d+$/.test(l) ? Number(l) : NaN;
  if (!(page >= 1)) throw watchError(400, 'INVALID_PAGINATION', 'Page must be >= 1');
  if (!(limit >= 1 && limit <= 200)) throw watchError(400, 'INVALID_PAGINATION', 'Limit must be between 1 and 200');
  return { page, limit };
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

/** The `POST /watchers` body → config (paths as given; `roots()` checks them). */
function parseConfig(b: Record<string, unknown>, state: WatchState): { config: Config; skipHidden: boolean } {
  const paths = stringList(b, 'paths');
  if (!paths || paths.length === 0) throw invalid('EmptyPaths', 'path list cannot be empty');
  if (paths.length > WATCH_LIMITS.maxPaths) throw watchError(409, 'LIMIT_EXCEEDED', `too many paths (max ${WATCH_LIMITS.maxPaths})`);
  state.checkRoom();
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
  const kinds = stringList(b, 'kinds');
  for (const k of kinds ?? []) if (!(KINDS as readonly string[]).includes(k)) throw invalid('InvalidRequest', `unknown event kind: ${k}`);
  const recursive = optBool(b, 'recursive') ?? true;
  const skipHidden = optBool(b, 'skip_hidden') ?? false;
  const coalesce = optInt(b, 'coalesce_ms', 0, 60_000) ?? 100;
  const historySize = Math.min(optInt(b, 'history_size', 1, Number.MAX_SAFE_INTEGER) ?? WATCH_LIMITS.historyEvents, WATCH_LIMITS.historyEvents);
  const config: Config = {
    paths, recursive, include, exclude, ignore_dirs: [...ignoreDirs], kinds: kinds ? (kinds as Kind[]) : null,
    coalesce_ms: coalesce, history_size: historySize, history_limit_bytes: WATCH_LIMITS.historyBytes,
  };
  return { config, skipHidden };
}

/* ------------------------------------------------------------------ handlers */

async function create(req: Req): Promise<void> {
  const { config, skipHidden } = parseConfig(await req.json(), req.state);
  const roots = await req.state.roots(config.paths);
  config.paths = roots.map((r) => r.path);
  sendJson(req.res, 201, req.state.create(config, roots, skipHidden).view());
}

function list(req: Req): void {
  const { page, limit } = pagination(req.query);
  const all = req.state.list();
  sendJson(req.res, 200, { items: all.slice((page - 1) * limit, page * limit).map((w) => w.view()), page, limit, total: all.length });
}

function remove(req: Req, p: Params): void {
  const w = req.state.find(p.id ?? '');
  req.state.remove(w);
  sendJson(req.res, 200, { id: w.id, deleted: true });
}

function events(req: Req, p: Params): void {
  const w = req.state.find(p.id ?? '');
  const { page, limit } = pagination(req.query);
  const matched = w.history.after(parseCursor(req.query));
  const all = w.history.retained();
  const oldest = all[0];
  const newest = all[all.length - 1];
  sendJson(req.res, 200, {
    items: matched.slice((page - 1) * limit, page * limit).map((s) => s.ev), page, limit, total: matched.length,
    oldest_available_id: oldest?.ev.id ?? null, newest_available_id: newest?.ev.id ?? null,
    oldest_available_timestamp: oldest?.ev.timestamp ?? null, newest_available_timestamp: newest?.ev.timestamp ?? null,
  });
}

function sse(req: Req, p: Params): void {
  const w = req.state.find(p.id ?? '');
  const cursor = parseCursor(req.query); // `Last-Event-ID` is ignored [S:765]
  const replay = cursor.kind === 'none' ? [] : w.history.after(cursor); // no cursor: live only
  if (req.core.closing) throw watchError(503, 'SHUTTING_DOWN', 'Service is shutting down');
  if (w.history.clientCount >= WATCH_LIMITS.maxClients) {
    throw watchError(429, 'MAX_CLIENTS_REACHED', `too many stream clients (max ${WATCH_LIMITS.maxClients})`);
  }
  req.res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  req.res.flushHeaders();
  w.history.attach(req.res, replay);
}

const ROUTES: Route<Req>[] = [
  { method: 'POST', pattern: '/watchers', handler: create },
  { method: 'GET', pattern: '/watchers', handler: list },
  { method: 'GET', pattern: '/watchers/:id', handler: (req, p) => sendJson(req.res, 200, req.state.find(p.id ?? '').view()) },
  { method: 'DELETE', pattern: '/watchers/:id', handler: remove },
  { method: 'GET', pattern: '/watchers/:id/events', handler: events },
  { method: 'GET', pattern: '/watchers/:id/events/sse', handler: sse },
  {
    method: 'GET', pattern: '/watchers/:id/events/ws', handler: (req, p) => {
      req.state.find(p.id ?? '');
      throw watchError(501, 'NOT_IMPLEMENTED', 'WebSocket streams are not simulated; use /events/sse');
    },
  },
];

export function createWatchKit(core: SimCore): KitRuntime {
  let nextEventId = 1;
  const ids = (): number => nextEventId++;
  return createKit(core, {
    slug: 'watch',
    service: 'watch',
    state: (c) => new WatchState(core, c, ids),
    routes: ROUTES,
    errors: {
      body: (e: KitError) => ({ code: e.fields.code ?? (e.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INTERNAL_ERROR'), message: e.message, details: e.fields.details ?? null }),
      badJson: (e) => invalid('InvalidJson', `Failed to parse the request body as JSON: ${e.message}`),
      misses: 'bare',
    },
  });
}
