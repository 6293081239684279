/**
 * The `files` kit: `/api/v1/files/*` plus the dufs-style root routes on the same host
 * (seed-kits-exec-files.md §3, checklist §3.10): the route table over {@link FilesState}.
 *
 * Paths are absolute container paths appended raw (`GET /api/v1/files/etc/hostname`) [S:6831].
 * Bodies stream to and from disk. Errors are `{error, success:false}` [R:52745].
 *
 * Choices where the seeds are silent: `?lines` past the end answers an empty body without
 * `X-Line-Range`; journal, archives, downloads, backends and chown are not simulated (404 / 403).
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { safeDecode, type Params, type Route } from '../../router.js';
import type { SimCore } from '../../state.js';
import { flag, sendEmpty, sendJson, sendText } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import type { KitRuntime } from '../types.js';
import { globSearch, grepSearch } from './search.js';
import { FilesState, type Target } from './state.js';

type Req = KitRequest<FilesState>;

const MIME: Record<string, string> = {
  '.txt': 'text/plain', '.md': 'text/markdown', '.json': 'application/json', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.ts': 'text/x-typescript', '.html': 'text/html', '.css': 'text/css', '.csv': 'text/csv', '.xml': 'text/xml', '.yaml': 'text/yaml',
  '.yml': 'text/yaml', '.toml': 'text/x-toml', '.sh': 'text/x-shellscript', '.py': 'text/x-python', '.log': 'text/plain',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf', '.zip': 'application/zip', '.gz': 'application/gzip',
};

function mimeOf(p: string): string {
  const m = MIME[path.extname(p).toLowerCase()];
  if (!m) return 'application/octet-stream'; // "File downloads return application/octet-stream" [R:52706]
  return m.startsWith('text/') || m === 'application/json' ? `${m}; charset=utf-8` : m;
}

/* ------------------------------------------------------------------ reads */

async function streamFile(req: Req, t: Target, st: Stats, headOnly = false): Promise<void> {
  const type = req.query.get('content-type') ?? mimeOf(t.path);
  req.res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size, 'Last-Modified': st.mtime.toUTCString() });
  if (headOnly) {
    req.res.end();
    return;
  }
  await pipeline(createReadStream(t.host), req.res);
}

async function hashFile(host: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(host), h);
  return h.digest('hex');
}

/** Base64 without holding the file: encode in 3-byte-aligned chunks. */
async function streamBase64(req: Req, host: string): Promise<void> {
  req.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(host)) {
    const buf = Buffer.concat([carry, chunk as Buffer]);
    const cut = buf.length - (buf.length % 3);
    if (cut) req.res.write(buf.subarray(0, cut).toString('base64'));
    carry = buf.subarray(cut);
  }
  req.res.end(carry.length ? carry.toString('base64') : undefined);
}

/** `?lines=10-50|100|-20|50-` (1-indexed, inclusive; ≤100 000 lines) [S:7714]. */
async function lines(req: Req, t: Target, spec: string): Promise<void> {
  const m = /^(?:(\d+)-(\d+)|(\d+)|-(\d+)|(\d+)-)$/.exec(spec);
  if (!m) throw new KitError(400, `Invalid lines parameter: ${spec}`);
  const MAX = 100_000;
  const selected: string[] = [];
  let lineNo = 0;
  let eof = true;
  let first = 0;
  const rl = createInterface({ input: createReadStream(t.host), crlfDelay: Infinity });
  if (m[4] !== undefined) {
    const n = Math.min(Number(m[4]), MAX);
    for await (const line of rl) {
      lineNo++;
      selected.push(line);
      if (selected.length > n) selected.shift();
    }
    first = lineNo - selected.length + 1;
  } else {
    const a = Number(m[1] ?? m[3] ?? m[5]);
    const b = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? a : Infinity;
    if (a < 1 || b < a) throw new KitError(400, `Invalid lines parameter: ${spec}`);
    const last = Math.min(b, a + MAX - 1);
    first = a;
    for await (const line of rl) {
      lineNo++;
      if (lineNo >= a) selected.push(line);
      if (lineNo >= last) {
        eof = false;
        break;
      }
    }
    rl.close();
    // Stopping at `last` means the scan did not reach EOF: no X-Total-Lines ("when naturally known").
  }
  const headers: Record<string, string> = {};
  if (selected.length) headers['X-Line-Range'] = `${first}-${first + selected.length - 1}`;
  if (eof) headers['X-Total-Lines'] = String(lineNo);
  sendText(req.res, 200, selected.length ? selected.join('\n') + '\n' : '', 'text/plain; charset=utf-8', headers);
}

async function sendDirectory(req: Req, t: Target, rootRoute: boolean): Promise<void> {
  const { query: q, state } = req;
  if (!rootRoute && q.get('glob')) return sendJson(req.res, 200, await globSearch(state, t, q.get('glob'), q));
  if (!rootRoute && q.get('grep')) return sendJson(req.res, 200, await grepSearch(state, t, q.get('grep'), q));
  if (q.has('zip')) throw new KitError(501, 'Archives are not supported by the simulator');
  if (rootRoute && !q.has('json')) {
    const body = (await state.listing(t, 'paths')).paths as Array<{ name: string; path_type: string }>;
    const items = body.map((e) => `<li><a href="${encodeURI(path.posix.join(t.path, e.name))}${e.path_type === 'Dir' ? '/' : ''}">${e.name}</a></li>`);
    sendText(req.res, 200, `<!DOCTYPE html><html><head><title>Index of ${t.path}</title></head><body><ul>${items.join('')}</ul></body></html>`, 'text/html; charset=utf-8');
    return;
  }
  sendJson(req.res, 200, await state.listing(t, rootRoute ? 'paths' : (req.core.quirks.listing ?? 'paths')));
}

async function getPath(req: Req, rawPath: string, rootRoute: boolean): Promise<void> {
  const { query: q, state } = req;
  const t = await state.target(rawPath);
  if (q.has('stat') && !rootRoute) return sendJson(req.res, 200, await state.statJson(t));
  const st = await state.statOr404(t);
  if (st.isDirectory()) return sendDirectory(req, t, rootRoute);
  if (flag(q, 'hash') || flag(q, 'sha256')) return sendText(req.res, 200, await hashFile(t.host)); // SHA-256 only [S:7748]
  if (q.has('base64')) return streamBase64(req, t.host);
  if (q.get('lines')) return lines(req, t, q.get('lines') as string);
  await streamFile(req, t, st);
}

/* ------------------------------------------------------------------ writes */

function putResult(req: Req, t: Target, size: number): Record<string, unknown> {
  return req.core.quirks.putShape === 'reference'
    ? { message: 'File uploaded successfully', path: t.path, size, success: true } // [R:51466]
    : { path: t.path, size, success: true }; // [S:6965]
}

async function append(req: Req, rawPath: string): Promise<void> {
  const t = await req.state.target(rawPath);
  const size = await req.state.receive(t, req.req, 'append');
  sendJson(req.res, 200, { new_size: size, path: t.path, success: true }); // [R:51485-51530]
}

/** Root-route `PATCH` with `X-Update-Range: append | bytes=a-b/n` → 204 [S:6952-6976]. */
async function patchRoot(req: Req, rawPath: string): Promise<void> {
  const t = await req.state.target(rawPath);
  const range = String(req.req.headers['x-update-range'] ?? '').trim();
  let mode: 'append' | { offset: number };
  if (range === 'append') mode = 'append';
  else {
    const m = /^bytes=(\d+)-\d*(?:\/\d+)?$/.exec(range);
    if (!m) throw new KitError(400, 'Missing or invalid X-Update-Range header');
    mode = { offset: Number(m[1]) };
  }
  await req.state.statOr404(t);
  await req.state.receive(t, req.req, mode);
  sendEmpty(req.res, 204);
}

/** The copy / move answer [S:7076-7084]. */
function sendRelocated(req: Req, src: Target, dst: Target): void {
  sendJson(req.res, 200, { source: src.path, destination: dst.path, success: true });
}

/** `PATCH /api/v1/files{p}` takes JSON `{move_to}` or `{name}`; raw bytes → 400 [S:6877]. */
async function patchApi(req: Req, rawPath: string): Promise<void> {
  const b = await req.json();
  const { state } = req;
  const src = await state.target(rawPath, false);
  if (typeof b.move_to === 'string') return sendRelocated(req, src, await state.move(src, b.move_to));
  if (typeof b.name === 'string' && b.name && !b.name.includes('/')) {
    return sendRelocated(req, src, await state.move(src, path.posix.join(path.posix.dirname(src.path), b.name)));
  }
  throw new KitError(400, 'Invalid JSON body: expected move_to or name');
}

async function post(req: Req, rawPath: string): Promise<void> {
  const { query: q, state } = req;
  if (q.has('mkdir')) {
    // `?mkdir` [R:51145] and `?mkdir=true` [S:7037] both accepted.
    await state.mkdir(await state.target(rawPath));
    return sendJson(req.res, 200, { message: 'Directory created', success: true });
  }
  const moveTo = q.get('move_to');
  if (moveTo) {
    const src = await state.target(rawPath, false);
    return sendRelocated(req, src, await state.move(src, moveTo));
  }
  const copyTo = q.get('copy_to');
  if (copyTo) {
    const src = await state.target(rawPath);
    return sendRelocated(req, src, await state.copy(src, copyTo, flag(q, 'overwrite')));
  }
  throw new KitError(400, 'Unsupported operation: expected ?mkdir, ?move_to or ?copy_to');
}

/* ------------------------------------------------------------------ dispatch */

/** Reserved prefixes: `/api/v1/files/{op}{path}` with op's own method [S:6870]. */
async function reserved(req: Req, op: string, p: string): Promise<void> {
  const { query: q, state } = req;
  const need = (name: string): string => {
    const v = q.get(name);
    if (!v) throw new KitError(400, `${name} parameter is required`);
    return v;
  };
  switch (op) {
    case 'stat':
      return sendJson(req.res, 200, await state.statJson(await state.target(p)));
    case 'glob':
      return sendJson(req.res, 200, await globSearch(state, await state.target(p), q.get('pattern'), q));
    case 'grep':
      return sendJson(req.res, 200, await grepSearch(state, await state.target(p), q.get('pattern'), q));
    case 'realpath': {
      const t = await state.target(p);
      await state.statOr404(t);
      return sendJson(req.res, 200, { path: t.path, real_path: t.resolved });
    }
    case 'copy': {
      const to = need('copy_to');
      const src = await state.target(p);
      return sendRelocated(req, src, await state.copy(src, to, flag(q, 'overwrite')));
    }
    case 'move': {
      const to = need('move_to');
      const src = await state.target(p, false);
      return sendRelocated(req, src, await state.move(src, to));
    }
    case 'append':
      return append(req, p);
    case 'chmod': {
      const t = await state.target(p);
      const mode = q.get('chmod') ?? '';
      await state.chmod(t, mode);
      return sendJson(req.res, 200, { mode, path: t.path, success: true });
    }
    default: // chown: needs --allow-chown [S:6887]
      throw new KitError(403, 'Chown is not enabled on this server');
  }
}

const RESERVED: Record<string, string> = {
  stat: 'GET', grep: 'GET', glob: 'GET', realpath: 'GET', chmod: 'PATCH', chown: 'PATCH', copy: 'POST', move: 'POST', append: 'PUT',
};

/** `/api/v1/files*`: reserved prefixes dispatch by prefix AND method; any other method is a literal path. */
async function api(req: Req, rest: string): Promise<void> {
  const m = /^\/([a-z]+)(\/.*)?$/.exec(rest);
  const op = m?.[1];
  if (op && RESERVED[op] === req.method) return reserved(req, op, safeDecode(m?.[2] ?? '/'));
  const p = safeDecode(rest || '/');
  switch (req.method) {
    case 'GET':
      return getPath(req, p, false);
    case 'PUT': {
      if (req.query.has('append')) return append(req, p);
      const t = await req.state.target(p);
      return sendJson(req.res, 200, putResult(req, t, await req.state.receive(t, req.req, 'overwrite')));
    }
    case 'POST':
      return post(req, p);
    case 'DELETE': {
      const t = await req.state.target(p, false);
      await req.state.remove(t);
      return sendJson(req.res, 200, req.core.quirks.putShape === 'reference' ? { message: 'File deleted successfully', success: true } : { success: true, path: t.path });
    }
    case 'PATCH':
      return patchApi(req, p);
    default:
      throw new KitError(405, 'Method not allowed'); // HEAD /api/v1/files/… → 405 [S:6886]
  }
}

/** dufs-style root routes: `GET|HEAD {R}{p}`, `PUT {R}{p}`, `PATCH {R}{p}` (X-Update-Range), `DELETE`. */
async function rootRoute(req: Req, raw: string): Promise<void> {
  const p = safeDecode(raw);
  const { state } = req;
  switch (req.method) {
    case 'GET':
      return getPath(req, p, true);
    case 'HEAD': {
      const t = await state.target(p);
      const st = await state.statOr404(t);
      if (st.isDirectory()) return sendEmpty(req.res, 200, { 'Content-Type': 'text/html; charset=utf-8' });
      return streamFile(req, t, st, true);
    }
    case 'PUT':
      await state.receive(await state.target(p), req.req, 'overwrite');
      return sendEmpty(req.res, 201);
    case 'PATCH':
      return patchRoot(req, p);
    case 'DELETE':
      await state.remove(await state.target(p, false));
      return sendEmpty(req.res, 200);
    default:
      throw new KitError(405, 'Method not allowed');
  }
}

const ROUTES: Route<Req>[] = [
  { method: '*', pattern: '/api/v1/files*', handler: (req, p: Params) => api(req, p.rest ?? '') },
  // Journal, backends, mounts, downloads, extractions: not simulated.
  { method: '*', pattern: '/api/v1/*', handler: () => Promise.reject(new KitError(404, 'Not found')) },
  { method: '*', pattern: '*', handler: (req, p: Params) => rootRoute(req, p.rest ?? '/') },
];

/** Errno of a failed fs call → the status a real file server answers. */
function errnoStatus(code: string | undefined): number {
  if (code === 'ENOENT') return 404;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 403;
  if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') return 409;
  return 500;
}

export function createFilesKit(core: SimCore): KitRuntime {
  return createKit(core, {
    slug: 'files',
    service: 'hoody-files',
    state: (c) => new FilesState(core, c),
    routes: ROUTES,
    errors: {
      body: (e) => ({ error: e.message, success: false }),
      fromThrown: (e) => new KitError(errnoStatus((e as NodeJS.ErrnoException).code), (e as Error).message),
    },
  });
}
