/**
 * The `files` kit: `/api/v1/files/*` plus the dufs-style root routes on the same host
 * (seed-kits-exec-files.md §3, checklist §3.10).
 *
 * Paths are absolute container paths appended raw (`GET /api/v1/files/etc/hostname`) [S:6831].
 * Owned prefixes map into the container sandbox; everything else reads through to the host and
 * is read-only (403). Bodies stream to and from disk. Errors are `{error, success:false}` [R:52745].
 *
 * Choices where the seeds are silent: PUT creates missing parent directories (as `/append` does
 * [R:51485]); `?mkdir` creates parents and answers 409 when the path exists; `?lines` past the end
 * answers an empty body without `X-Line-Range`; journal, archives, downloads, backends and chown
 * are not simulated (404 / 403).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { chmod, cp, lstat, mkdir, readFile, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Router, safeDecode, type Params } from '../router.js';
import { isOwned, mapPath, normalizeContainerPath, OWNED_PREFIXES, PathError, resolveContainerPath } from '../sandbox.js';
import type { KitRuntime, SimCore } from '../state.js';
import { BadJson, flag, intParam, readJsonObject, sendEmpty, sendJson, sendText } from '../util.js';
import { globMatcher, walk } from './glob.js';
import type { KitContext, KitFactory } from './types.js';

class FilesError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Target {
  /** The container path as requested (normalised). */
  path: string;
  /** Symlink-resolved container path. */
  resolved: string;
  host: string;
  owned: boolean;
}

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

const RESERVED: Record<string, string> = {
  stat: 'GET', grep: 'GET', glob: 'GET', realpath: 'GET', chmod: 'PATCH', chown: 'PATCH', copy: 'POST', move: 'POST', append: 'PUT',
};

export const createFilesKit: KitFactory = (core: SimCore): KitRuntime => {
  const started = new Date().toISOString();

  /* ------------------------------------------------------------------ path resolution */

  async function target(ctx: KitContext, raw: string, followLast = true): Promise<Target> {
    let p: string;
    try {
      p = normalizeContainerPath(raw === '' ? '/' : raw);
    } catch {
      throw new FilesError(400, `Invalid path: ${raw}`);
    }
    const root = core.sandboxRoot(ctx.container.id);
    let resolved: string;
    try {
      resolved = await resolveContainerPath(root, p, followLast);
    } catch (e) {
      if (e instanceof PathError) throw new FilesError(400, e.message);
      throw e;
    }
    const host = mapPath(root, resolved);
    const owned = isOwned(resolved);
    // Host read-through must never reach another container's sandbox or the simulator's data.
    if (!owned && (host === core.dataDir || host.startsWith(core.dataDir + path.sep))) throw new FilesError(403, `Access to ${p} is forbidden`);
    return { path: p, resolved, host, owned };
  }

  function writable(t: Target): void {
    const isPrefixRoot = (OWNED_PREFIXES as readonly string[]).includes(t.resolved);
    if (!t.owned || isPrefixRoot || t.resolved === '/home/user') {
      throw new FilesError(403, `Access to ${t.path} is forbidden`);
    }
  }

  async function statOr404(t: Target, message?: string): Promise<Stats> {
    try {
      return await stat(t.host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new FilesError(403, `Access to ${t.path} is forbidden`);
      throw new FilesError(404, message ?? `File or directory not found: ${t.path}`);
    }
  }

  async function exists(host: string): Promise<boolean> {
    return lstat(host).then(() => true, () => false);
  }

  /* ------------------------------------------------------------------ shapes */

  function owner(t: Target, st: Stats): { owner: string; group: string } {
    if (t.owned) return { owner: 'user', group: 'user' }; // the container's default user [S:553]
    return { owner: st.uid === 0 ? 'root' : String(st.uid), group: st.gid === 0 ? 'root' : String(st.gid) };
  }

  async function statJson(t: Target): Promise<Record<string, unknown>> {
    let lst: Stats;
    try {
      lst = await lstat(t.host);
    } catch {
      throw new FilesError(404, 'File not found'); // [S:6917-6922]
    }
    const st = lst.isSymbolicLink() ? await stat(t.host).catch(() => lst) : lst;
    return {
      name: path.posix.basename(t.path) || '/', path: t.path, path_type: st.isDirectory() ? 'Dir' : 'File', size: st.size,
      permissions: (st.mode & 0o777).toString(8), ...owner(t, st), mtime: Math.round(st.mtimeMs), revisions: 0,
      is_symlink: lst.isSymbolicLink(), symlink_target: lst.isSymbolicLink() ? await readlink(t.host).catch(() => null) : null,
    };
  }

  async function listing(t: Target, key: 'paths' | 'entries'): Promise<Record<string, unknown>> {
    const names = (await readdir(t.host)).sort();
    const items = [];
    for (const name of names) {
      const host = path.join(t.host, name);
      const st = await stat(host).catch(() => lstat(host).catch(() => undefined));
      if (!st) continue;
      items.push({ name, path_type: st.isDirectory() ? 'Dir' : 'File', size: st.size, mtime: Math.round(st.mtimeMs), revisions: null });
    }
    return {
      allow_archive: false, allow_delete: true, allow_search: true, allow_upload: true, auth: false, dir_exists: true,
      href: t.path, kind: 'Index', [key]: items, uri_prefix: '/api/v1/files', user: 'user',
    };
  }

  function putResult(t: Target, size: number): Record<string, unknown> {
    return core.quirks.putShape === 'reference'
      ? { message: 'File uploaded successfully', path: t.path, size, success: true } // [R:51466]
      : { path: t.path, size, success: true }; // [S:6965]
  }

  /* ------------------------------------------------------------------ reads */

  async function streamFile(ctx: KitContext, t: Target, st: Stats, headOnly = false): Promise<void> {
    const type = ctx.query.get('content-type') ?? mimeOf(t.path);
    ctx.res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size, 'Last-Modified': st.mtime.toUTCString() });
    if (headOnly) {
      ctx.res.end();
      return;
    }
    await pipeline(createReadStream(t.host), ctx.res);
  }

  async function hashFile(host: string): Promise<string> {
    const h = createHash('sha256');
    await pipeline(createReadStream(host), h);
    return h.digest('hex');
  }

  /** Base64 without holding the file: encode in 3-byte-aligned chunks. */
  async function streamBase64(ctx: KitContext, host: string): Promise<void> {
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    let carry = Buffer.alloc(0);
    for await (const chunk of createReadStream(host)) {
      const buf = Buffer.concat([carry, chunk as Buffer]);
      const cut = buf.length - (buf.length % 3);
      if (cut) ctx.res.write(buf.subarray(0, cut).toString('base64'));
      carry = buf.subarray(cut);
    }
    ctx.res.end(carry.length ? carry.toString('base64') : undefined);
  }

  /** `?lines=10-50|100|-20|50-` (1-indexed, inclusive; ≤100 000 lines) [S:7714]. */
  async function lines(ctx: KitContext, t: Target, spec: string): Promise<void> {
    const m = /^(?:(\d+)-(\d+)|(\d+)|-(\d+)|(\d+)-)$/.exec(spec);
    if (!m) throw new FilesError(400, `Invalid lines parameter: ${spec}`);
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
      if (a < 1 || b < a) throw new FilesError(400, `Invalid lines parameter: ${spec}`);
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
    sendText(ctx.res, 200, selected.length ? selected.join('\n') + '\n' : '', 'text/plain; charset=utf-8', headers);
  }

  async function getPath(ctx: KitContext, rawPath: string, rootRoute: boolean, headOnly = false): Promise<void> {
    const q = ctx.query;
    const t = await target(ctx, rawPath);
    if (q.has('stat') && !rootRoute) {
      sendJson(ctx.res, 200, await statJson(t));
      return;
    }
    const st = await statOr404(t);
    if (st.isDirectory()) {
      if (!rootRoute && q.get('glob')) return glob(ctx, t, q.get('glob') as string);
      if (!rootRoute && q.get('grep')) return grep(ctx, t, q.get('grep') as string);
      if (q.has('zip')) throw new FilesError(501, 'Archives are not supported by the simulator');
      if (rootRoute && !q.has('json')) {
        const body = (await listing(t, 'paths')).paths as Array<{ name: string; path_type: string }>;
        const items = body.map((e) => `<li><a href="${encodeURI(path.posix.join(t.path, e.name))}${e.path_type === 'Dir' ? '/' : ''}">${e.name}</a></li>`);
        sendText(ctx.res, 200, `<!DOCTYPE html><html><head><title>Index of ${t.path}</title></head><body><ul>${items.join('')}</ul></body></html>`, 'text/html; charset=utf-8');
        return;
      }
      sendJson(ctx.res, 200, await listing(t, rootRoute ? 'paths' : (core.quirks.listing ?? 'paths')));
      return;
    }
    if (flag(q, 'hash') || flag(q, 'sha256')) return sendText(ctx.res, 200, await hashFile(t.host)); // SHA-256 only [S:7748]
    if (q.has('base64')) return streamBase64(ctx, t.host);
    if (q.get('lines')) return lines(ctx, t, q.get('lines') as string);
    await streamFile(ctx, t, st, headOnly);
  }

  /* ------------------------------------------------------------------ writes */

  /** Streams the request body into `t`; overwrite goes through a temp file + rename. */
  async function receive(ctx: KitContext, t: Target, mode: 'overwrite' | 'append' | { offset: number }): Promise<number> {
    writable(t);
    const cur = await stat(t.host).catch(() => undefined);
    if (cur?.isDirectory()) throw new FilesError(409, `Path is a directory: ${t.path}`);
    await mkdir(path.dirname(t.host), { recursive: true });
    if (mode === 'overwrite') {
      const tmp = path.join(path.dirname(t.host), `.${path.basename(t.host)}.upload-${randomBytes(4).toString('hex')}`);
      try {
        await pipeline(ctx.req, createWriteStream(tmp));
        await rename(tmp, t.host);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    } else if (mode === 'append') {
      await pipeline(ctx.req, createWriteStream(t.host, { flags: 'a' }));
    } else {
      await pipeline(ctx.req, createWriteStream(t.host, { flags: cur ? 'r+' : 'w', start: mode.offset }));
    }
    return (await stat(t.host)).size;
  }

  async function put(ctx: KitContext, rawPath: string): Promise<void> {
    const t = await target(ctx, rawPath);
    if (ctx.query.has('append')) return append(ctx, rawPath);
    const size = await receive(ctx, t, 'overwrite');
    sendJson(ctx.res, 200, putResult(t, size));
  }

  async function append(ctx: KitContext, rawPath: string): Promise<void> {
    const t = await target(ctx, rawPath);
    const size = await receive(ctx, t, 'append');
    sendJson(ctx.res, 200, { new_size: size, path: t.path, success: true }); // [R:51485-51530]
  }

  /** Root-route `PATCH` with `X-Update-Range: append | bytes=a-b/n` → 204 [S:6952-6976]. */
  async function patchRoot(ctx: KitContext, rawPath: string): Promise<void> {
    const t = await target(ctx, rawPath);
    const range = String(ctx.req.headers['x-update-range'] ?? '').trim();
    let mode: 'append' | { offset: number };
    if (range === 'append') mode = 'append';
    else {
      const m = /^bytes=(\d+)-\d*(?:\/\d+)?$/.exec(range);
      if (!m) throw new FilesError(400, 'Missing or invalid X-Update-Range header');
      mode = { offset: Number(m[1]) };
    }
    await statOr404(t);
    await receive(ctx, t, mode);
    sendEmpty(ctx.res, 204);
  }

  /** `PATCH /api/v1/files{p}` takes JSON `{move_to}` or `{name}`; raw bytes → 400 [S:6877]. */
  async function patchApi(ctx: KitContext, rawPath: string): Promise<void> {
    let b: Record<string, unknown>;
    try {
      b = await readJsonObject(ctx.req);
    } catch (e) {
      if (e instanceof BadJson) throw new FilesError(400, 'Invalid JSON body');
      throw e;
    }
    const src = await target(ctx, rawPath, false);
    if (typeof b.move_to === 'string') return doMove(ctx, src, b.move_to);
    if (typeof b.name === 'string' && b.name && !b.name.includes('/')) return doMove(ctx, src, path.posix.join(path.posix.dirname(src.path), b.name));
    throw new FilesError(400, 'Invalid JSON body: expected move_to or name');
  }

  async function post(ctx: KitContext, rawPath: string): Promise<void> {
    const q = ctx.query;
    if (q.has('mkdir')) {
      // `?mkdir` [R:51145] and `?mkdir=true` [S:7037] both accepted.
      const t = await target(ctx, rawPath);
      writable(t);
      if (await exists(t.host)) throw new FilesError(409, `Directory already exists: ${t.path}`);
      await mkdir(t.host, { recursive: true });
      sendJson(ctx.res, 200, { message: 'Directory created', success: true });
      return;
    }
    if (q.get('move_to')) return doMove(ctx, await target(ctx, rawPath, false), q.get('move_to') as string);
    if (q.get('copy_to')) return doCopy(ctx, await target(ctx, rawPath), q.get('copy_to') as string, flag(q, 'overwrite'));
    throw new FilesError(400, 'Unsupported operation: expected ?mkdir, ?move_to or ?copy_to');
  }

  async function del(ctx: KitContext, rawPath: string): Promise<void> {
    const t = await target(ctx, rawPath, false);
    if (!(await exists(t.host))) throw new FilesError(404, `File or directory not found: ${t.path}`);
    writable(t);
    await rm(t.host, { recursive: true, force: true }); // recursive, no confirmation [S:7132]
    sendJson(ctx.res, 200, core.quirks.putShape === 'reference' ? { message: 'File deleted successfully', success: true } : { success: true, path: t.path });
  }

  function insideOf(parent: string, child: string): boolean {
    return child === parent || child.startsWith(parent + '/');
  }

  /** `POST /copy{src}?copy_to=&overwrite=` — recursive, creates parents [S:7076-7084]. */
  async function doCopy(ctx: KitContext, src: Target, to: string, overwrite: boolean): Promise<void> {
    if (!(await exists(src.host))) throw new FilesError(404, `Source not found: ${src.path}`);
    const dst = await target(ctx, to);
    writable(dst);
    if (insideOf(src.resolved, dst.resolved)) throw new FilesError(400, 'Cannot copy a path into itself');
    if (await exists(dst.host)) {
      if (!overwrite) throw new FilesError(409, 'Destination already exists');
      await rm(dst.host, { recursive: true, force: true });
    }
    await mkdir(path.dirname(dst.host), { recursive: true });
    await cp(src.host, dst.host, { recursive: true, verbatimSymlinks: true });
    sendJson(ctx.res, 200, { source: src.path, destination: dst.path, success: true });
  }

  /** `POST /move{src}?move_to=` — no overwrite [S:7076]. */
  async function doMove(ctx: KitContext, src: Target, to: string): Promise<void> {
    if (!(await exists(src.host))) throw new FilesError(404, `Source not found: ${src.path}`);
    writable(src);
    const dst = await target(ctx, to, false);
    writable(dst);
    if (insideOf(src.resolved, dst.resolved)) throw new FilesError(400, 'Cannot move a path into itself');
    if (await exists(dst.host)) throw new FilesError(409, 'Destination already exists');
    await mkdir(path.dirname(dst.host), { recursive: true });
    await rename(src.host, dst.host);
    sendJson(ctx.res, 200, { source: src.path, destination: dst.path, success: true });
  }

  /* ------------------------------------------------------------------ search */

  async function requireDir(t: Target): Promise<void> {
    const st = await statOr404(t);
    if (!st.isDirectory()) throw new FilesError(400, `Not a directory: ${t.path}`);
  }

  /** `GET /glob{dir}?pattern=` → entries with `modified` in SECONDS [R:50846-50928]. */
  async function glob(ctx: KitContext, t: Target, pattern: string | null): Promise<void> {
    const q = ctx.query;
    if (!pattern) throw new FilesError(400, 'pattern parameter is required');
    await requireDir(t);
    const t0 = Date.now();
    const maxResults = intParam(q.get('max_results'), 1000, 1, 100_000);
    const match = globMatcher(pattern);
    const found: Array<{ is_dir: boolean; modified: number; name: string; size: number }> = [];
    const { scanned, truncated: cut } = await walk(t.host, {
      maxDepth: intParam(q.get('max_depth'), 50, 1, 1000), noIgnore: flag(q, 'no_ignore'),
      maxScanned: intParam(q.get('max_files_scanned'), 100_000, 1, 10_000_000), deadline: t0 + intParam(q.get('timeout'), 30, 1, 300) * 1000,
    }, (e) => {
      if (match(e.rel)) found.push({ is_dir: e.isDir, modified: Math.floor(e.mtimeMs / 1000), name: path.posix.join(t.path, e.rel), size: e.size });
    });
    const sort = q.get('sort') ?? 'mtime';
    const desc = (q.get('order') ?? (sort === 'mtime' ? 'desc' : 'asc')) === 'desc' ? -1 : 1;
    const key = (e: (typeof found)[number]): number | string => (sort === 'name' ? e.name : sort === 'size' ? e.size : e.modified);
    found.sort((a, b) => (key(a) < key(b) ? -desc : key(a) > key(b) ? desc : a.name < b.name ? -1 : 1));
    const entries = found.slice(0, maxResults);
    sendJson(ctx.res, 200, {
      count: entries.length, duration_ms: Date.now() - t0, entries, path: t.path, pattern, total_scanned: scanned,
      truncated: cut || found.length > maxResults,
    });
  }

  /** `GET /grep{path}?pattern=` — regex per line, binary files skipped [R:50929-51012]. */
  async function grep(ctx: KitContext, t: Target, pattern: string | null): Promise<void> {
    const q = ctx.query;
    if (!pattern) throw new FilesError(400, 'pattern parameter is required');
    let re: RegExp;
    try {
      const src = flag(q, 'fixed_string') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern;
      re = new RegExp(src, flag(q, 'ignore_case') ? 'i' : '');
    } catch (e) {
      throw new FilesError(400, `Invalid pattern: ${(e as Error).message}`);
    }
    const st = await statOr404(t);
    const t0 = Date.now();
    const context = intParam(q.get('context'), 0, 0, 100);
    const maxCount = intParam(q.get('max_count'), 50, 1, 1_000_000);
    const maxMatches = intParam(q.get('max_matches'), 500, 1, 1_000_000);
    const maxFilesize = intParam(q.get('max_filesize'), 10_485_760, 1, Number.MAX_SAFE_INTEGER);
    const globFilter = q.get('glob') ? globMatcher(q.get('glob') as string) : undefined;
    const files: Array<{ host: string; rel: string; size: number }> = [];
    let truncated = false;
    if (st.isDirectory()) {
      const r = await walk(t.host, {
        maxDepth: intParam(q.get('max_depth'), 50, 1, 1000), noIgnore: flag(q, 'no_ignore'), maxScanned: 1_000_000,
        deadline: t0 + intParam(q.get('timeout'), 30, 1, 300) * 1000,
      }, (e) => {
        if (!e.isDir && (!globFilter || globFilter(e.rel))) files.push({ host: e.host, rel: e.rel, size: e.size });
      });
      truncated = r.truncated;
      files.sort((a, b) => (a.rel < b.rel ? -1 : 1));
    } else files.push({ host: t.host, rel: '', size: st.size });
    const matches: Array<Record<string, unknown>> = [];
    let searched = 0;
    let filesMatched = 0;
    for (const f of files) {
      if (matches.length >= maxMatches) {
        truncated = true;
        break;
      }
      if (f.size > maxFilesize) continue;
      const buf = await readFile(f.host).catch(() => undefined);
      if (!buf || buf.subarray(0, 8192).includes(0)) continue; // binary files are skipped
      searched++;
      const lines = buf.toString('utf8').split(/\r?\n/);
      if (lines.length && lines[lines.length - 1] === '') lines.pop();
      let inFile = 0;
      for (let i = 0; i < lines.length && inFile < maxCount && matches.length < maxMatches; i++) {
        const line = lines[i] as string;
        const m = re.exec(line);
        if (!m) continue;
        inFile++;
        matches.push({
          path: f.rel ? path.posix.join(t.path, f.rel) : t.path, line_number: i + 1, line,
          column_byte: Buffer.byteLength(line.slice(0, m.index)), context_before: lines.slice(Math.max(0, i - context), i),
          context_after: context ? lines.slice(i + 1, i + 1 + context) : [],
        });
      }
      if (inFile) filesMatched++;
    }
    sendJson(ctx.res, 200, {
      duration_ms: Date.now() - t0, matches, path: t.path, pattern, total_files_matched: filesMatched, total_files_searched: searched,
      total_matches: matches.length, truncated,
    });
  }

  /* ------------------------------------------------------------------ routing */

  function health(ctx: KitContext): void {
    const mem = process.memoryUsage();
    sendJson(ctx.res, 200, {
      status: 'ok', service: 'hoody-files', built: '2025-01-01T00:00:00Z', started, memory: { rss: mem.rss, heap: mem.heapUsed },
      fds: 0, pid: process.pid, ip: '127.0.0.1', userAgent: String(ctx.req.headers['user-agent'] ?? ''),
    });
  }

  /** Reserved prefixes dispatch by prefix AND method; any other method is a literal path [S:6870]. */
  async function api(ctx: KitContext, rest: string): Promise<void> {
    const m = /^\/([a-z]+)(\/.*)?$/.exec(rest);
    const op = m?.[1];
    if (op && RESERVED[op] === ctx.method) {
      const p = safeDecode(m?.[2] ?? '/');
      switch (op) {
        case 'stat':
          return sendJson(ctx.res, 200, await statJson(await target(ctx, p)));
        case 'glob':
          return glob(ctx, await target(ctx, p), ctx.query.get('pattern'));
        case 'grep':
          return grep(ctx, await target(ctx, p), ctx.query.get('pattern'));
        case 'realpath': {
          const t = await target(ctx, p);
          await statOr404(t);
          return sendJson(ctx.res, 200, { path: t.path, real_path: t.resolved });
        }
        case 'copy': {
          const to = ctx.query.get('copy_to');
          if (!to) throw new FilesError(400, 'copy_to parameter is required');
          return doCopy(ctx, await target(ctx, p), to, flag(ctx.query, 'overwrite'));
        }
        case 'move': {
          const to = ctx.query.get('move_to');
          if (!to) throw new FilesError(400, 'move_to parameter is required');
          return doMove(ctx, await target(ctx, p, false), to);
        }
        case 'append':
          return append(ctx, p);
        case 'chmod': {
          const t = await target(ctx, p);
          const mode = ctx.query.get('chmod') ?? '';
          if (!/^[0-7]{3,4}$/.test(mode)) throw new FilesError(400, 'Invalid chmod mode');
          writable(t);
          await statOr404(t);
          await chmod(t.host, parseInt(mode, 8));
          return sendJson(ctx.res, 200, { mode, path: t.path, success: true });
        }
        case 'chown':
          throw new FilesError(403, 'Chown is not enabled on this server'); // needs --allow-chown [S:6887]
      }
    }
    const p = safeDecode(rest || '/');
    switch (ctx.method) {
      case 'GET':
        return getPath(ctx, p, false);
      case 'PUT':
        return put(ctx, p);
      case 'POST':
        return post(ctx, p);
      case 'DELETE':
        return del(ctx, p);
      case 'PATCH':
        return patchApi(ctx, p);
      default:
        throw new FilesError(405, 'Method not allowed'); // HEAD /api/v1/files/… → 405 [S:6886]
    }
  }

  /** dufs-style root routes: `GET|HEAD {R}{p}`, `PUT {R}{p}`, `PATCH {R}{p}` (X-Update-Range), `DELETE`. */
  async function rootRoute(ctx: KitContext, raw: string): Promise<void> {
    const p = safeDecode(raw);
    switch (ctx.method) {
      case 'GET':
        return getPath(ctx, p, true);
      case 'HEAD': {
        const t = await target(ctx, p);
        const st = await statOr404(t);
        if (st.isDirectory()) return sendEmpty(ctx.res, 200, { 'Content-Type': 'text/html; charset=utf-8' });
        return streamFile(ctx, t, st, true);
      }
      case 'PUT': {
        const t = await target(ctx, p);
        await receive(ctx, t, 'overwrite');
        return sendEmpty(ctx.res, 201);
      }
      case 'PATCH':
        return patchRoot(ctx, p);
      case 'DELETE': {
        const t = await target(ctx, p, false);
        if (!(await exists(t.host))) throw new FilesError(404, `File or directory not found: ${t.path}`);
        writable(t);
        await rm(t.host, { recursive: true, force: true });
        return sendEmpty(ctx.res, 200);
      }
      default:
        throw new FilesError(405, 'Method not allowed');
    }
  }

  const F = '/api/v1/files';
  const router = new Router<KitContext>([
    { method: 'GET', pattern: `${F}/health`, handler: health },
    { method: '*', pattern: `${F}*`, handler: (ctx, p: Params) => api(ctx, p.rest ?? '') },
    // Journal, backends, mounts, downloads, extractions: not simulated.
    { method: '*', pattern: '/api/v1/*', handler: () => Promise.reject(new FilesError(404, 'Not found')) },
    { method: '*', pattern: '*', handler: (ctx, p: Params) => rootRoute(ctx, p.rest ?? '/') },
  ]);

  return {
    slug: 'files',
    async handle(ctx: KitContext): Promise<void> {
      try {
        const m = router.match(ctx.method, ctx.path);
        if (m.kind !== 'ok') throw new FilesError(404, 'Not found');
        await m.handler(ctx, m.params);
      } catch (e) {
        if (ctx.res.headersSent) {
          ctx.res.destroy();
          return;
        }
        if (e instanceof FilesError) sendJson(ctx.res, e.status, { error: e.message, success: false });
        else {
          const code = (e as NodeJS.ErrnoException).code;
          const status = code === 'ENOENT' ? 404 : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 403 : code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR' ? 409 : 500;
          sendJson(ctx.res, status, { error: (e as Error).message, success: false });
        }
      }
    },
  };
};
