/**
 * files kit client (seed-kits-exec-files.md §3). Paths are absolute container paths appended to
 * `/api/v1/files` [S:6831]. Reserved first segments (stat, glob, grep, copy, …) dispatch by prefix
 * and method [S:6870], so a path that starts with one goes through the root route instead.
 */
import { isAscii } from 'node:buffer';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { HoodyError } from '../errors.js';
import { ensureOk, header, readJson, type HttpResponse } from '../http.js';
import type { Kits } from '../kits.js';

export interface FileStat {
  name: string;
  path: string;
  type: 'file' | 'dir';
  size: number;
  mtimeMs?: number;
  permissions?: string;
  isSymlink?: boolean;
}

/** One GET of a path: a directory, or a file with its size, mtime (1 s precision) and — when it fits — its bytes. */
export type Fetched = { type: 'dir' } | { type: 'file'; size: number; mtimeMs?: number; bytes?: Buffer };

export interface DirEntry {
  name: string;
  type: 'file' | 'dir';
  size: number;
  mtimeMs?: number;
}

export interface GrepMatch {
  path: string;
  line: number;
  text: string;
}

/** One line of a ranged read: its text (at most the line cap), its bytes read, whether the text is all of it, whether its end was read. */
export interface FileLine {
  text: string;
  bytes: number;
  whole: boolean;
  ended: boolean;
}

/** Lines out of a byte stream within bounds: `push` returns false once nothing more is wanted. */
class BoundedLines {
  readonly lines: FileLine[] = [];
  #parts: Buffer[] = [];
  #kept = 0;
  #bytes = 0;
  #scanned = 0;
  #total = 0;

  constructor(
    private readonly count: number,
    private readonly maxBytes: number,
    private readonly maxLineBytes: number,
    private readonly maxScanBytes: number,
  ) {}

  get done(): boolean {
    return this.lines.length >= this.count;
  }

  push(chunk: Buffer): boolean {
    let at = 0;
    // ASCII (the usual text): decoded once, each line a slice of it (a native decode per line cost ~0.1 ms per 1,000 lines).
    const ascii = chunk.length > 0 && isAscii(chunk) ? chunk.toString('latin1') : undefined;
    while (at < chunk.length) {
      const nl = chunk.indexOf(10, at);
      const end = nl === -1 ? chunk.length : nl;
      this.#scanned += end - at + (nl === -1 ? 0 : 1);
      this.#bytes += end - at;
      if (nl !== -1 && !this.#parts.length) {
        // A line whole in this chunk (the usual case): decoded straight from it, no copy.
        this.#kept = Math.min(this.maxLineBytes, end - at);
        this.#line(true, ascii !== undefined ? ascii.slice(at, at + this.#kept) : chunk.toString('utf8', at, at + this.#kept));
      } else {
        const room = this.maxLineBytes - this.#kept;
        if (room > 0) {
          this.#parts.push(chunk.subarray(at, Math.min(end, at + room)));
          this.#kept += Math.min(room, end - at);
        }
        if (nl === -1) break;
        this.#line(true);
      }
      if (this.done || this.#total >= this.maxBytes) return false;
      at = nl + 1;
    }
    // The last wanted line is already as long as it may be kept: the rest of it is not read.
    const lastFull = this.lines.length === this.count - 1 && this.#kept >= this.maxLineBytes;
    if (lastFull || this.#scanned >= this.maxScanBytes) {
      if (this.#bytes) this.#line(false);
      return false;
    }
    return true;
  }

  end(): void {
    if (this.#bytes && !this.done) this.#line(true);
  }

  #line(ended: boolean, text = Buffer.concat(this.#parts).toString('utf8')): void {
    this.lines.push({ text, bytes: this.#bytes, whole: ended && this.#kept === this.#bytes, ended });
    this.#total += this.#kept;
    if (this.#parts.length) this.#parts = [];
    this.#kept = 0;
    this.#bytes = 0;
  }
}

const RESERVED = new Set(['stat', 'glob', 'grep', 'realpath', 'chmod', 'chown', 'copy', 'move', 'append', 'health']);

/** `~` → /home/user; must be absolute; `..` resolved and never above `/`. */
export function containerPath(p: string): string {
  let s = p.trim();
  if (s === '~' || s.startsWith('~/')) s = `/home/user${s.slice(1)}`;
  if (!s.startsWith('/')) {
    throw new HoodyError({
      kind: 'bad_request',
      source: 'files',
      message: `path "${p}" is not absolute`,
      hint: 'use an absolute container path such as /home/user/project/file.txt (~ means /home/user)',
    });
  }
  if (s.includes('\0')) throw new HoodyError({ kind: 'bad_request', source: 'files', message: 'path contains a NUL byte' });
  const n = posix.normalize(s);
  return n.length > 1 ? n.replace(/\/$/, '') : n;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function routeFor(p: string): string {
  const first = p.split('/')[1] ?? '';
  return RESERVED.has(first) ? encodePath(p) : `/api/v1/files${encodePath(p)}`;
}

function entryType(v: unknown, isDir?: unknown): 'file' | 'dir' {
  if (isDir === true) return 'dir';
  return typeof v === 'string' && /dir/i.test(v) ? 'dir' : 'file';
}

/**
 * Lines `from`-`to` (1-based, inclusive) of a file's bytes, as the kit's `?lines=a-b` gives them
 * (line ends \n, \r\n or \r; each selected line followed by \n), with the total line count.
 */
/** Bounds of a line read: bytes kept in all, per line, and scanned. */
export interface LineBounds {
  maxBytes?: number;
  maxLineBytes?: number;
  maxScanBytes?: number;
  /**
   * A hint for a caller that shows lines within a character budget, each costing
   * min(its length, `lineChars`) + `perLine`: lines after the one that takes the total past
   * `chars` are not needed, so a reader may stop there (`stopped`), that line included.
   */
  shown?: { chars: number; perLine: number; lineChars: number };
}

/** A line read's bounds where the caller sets none: 1 MiB kept in all, 64 KiB a line, 16 MiB scanned. */
const BOUNDS = { maxBytes: 1024 * 1024, maxLineBytes: 64 * 1024, maxScanBytes: 16 * 1024 * 1024 };

const boundedLines = (count: number, b: LineBounds) =>
  new BoundedLines(count, b.maxBytes ?? BOUNDS.maxBytes, b.maxLineBytes ?? BOUNDS.maxLineBytes, b.maxScanBytes ?? BOUNDS.maxScanBytes);

/**
 * Lines `from`-`to` (1-based) of a whole file already in hand, within the same bounds as a
 * ranged read; `total` counts its lines as `cat -n` does. An ASCII file (the usual text) is
 * decoded once and cut with string searches, as the streamed reader would cut it.
 */
export function linesOf(bytes: Buffer, from: number, to: number, bounds: LineBounds = {}): { lines: FileLine[]; total: number; stopped: boolean } {
  return isAscii(bytes) ? asciiLinesOf(bytes.toString('latin1'), from, to, bounds) : streamedLinesOf(bytes, from, to, bounds);
}

/** linesOf through the streamed reader, one chunk (any encoding). Exported for the equivalence test. */
export function streamedLinesOf(bytes: Buffer, from: number, to: number, bounds: LineBounds = {}): { lines: FileLine[]; total: number; stopped: boolean } {
  let total = 0;
  let start = from === 1 ? 0 : -1;
  let end = bytes.length; // just past line `to`: the reader is given only the lines wanted
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) {
    total += 1;
    if (total === from - 1) start = i + 1;
    if (total === to) end = i + 1;
  }
  if (bytes.length && bytes[bytes.length - 1] !== 10) total += 1;
  if (start === -1 || start >= bytes.length) return { lines: [], total, stopped: false };
  const reader = boundedLines(to - from + 1, bounds);
  const stopped = !reader.push(bytes.subarray(start, end));
  if (!stopped) reader.end();
  return { lines: reader.lines, total, stopped: stopped && !reader.done };
}

/**
 * streamedLinesOf for a file whose bytes are its characters (ASCII): the same lines, bounds and
 * flags, found with string searches on one decoded text (a Buffer search per line crosses into
 * C++ each time: ~35 µs for 1,000 lines, against ~5 here), each line a slice of that text.
 */
function asciiLinesOf(s: string, from: number, to: number, b: LineBounds): { lines: FileLine[]; total: number; stopped: boolean } {
  let total = 0;
  let start = from === 1 ? 0 : -1;
  let end = s.length;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) {
    total += 1;
    if (total === from - 1) start = i + 1;
    if (total === to) end = i + 1;
  }
  if (s.length && s.charCodeAt(s.length - 1) !== 10) total += 1;
  if (start === -1 || start >= s.length) return { lines: [], total, stopped: false };
  const count = to - from + 1;
  const maxBytes = b.maxBytes ?? BOUNDS.maxBytes;
  const maxLine = b.maxLineBytes ?? BOUNDS.maxLineBytes;
  const maxScan = b.maxScanBytes ?? BOUNDS.maxScanBytes;
  const lines: FileLine[] = [];
  let kept = 0;
  let shown = 0;
  const budget = b.shown?.chars ?? Infinity;
  const perLine = b.shown?.perLine ?? 0;
  const lineChars = b.shown?.lineChars ?? Infinity;
  let at = start;
  // What BoundedLines.push does with the range as one chunk: whole lines until the count or
  // maxBytes is reached; an unended last line is kept (up to the line cap) for the end.
  while (at < end) {
    const nl = s.indexOf('\n', at);
    if (nl === -1) break;
    const len = nl - at;
    const k = Math.min(maxLine, len);
    lines.push({ text: s.slice(at, at + k), bytes: len, whole: k === len, ended: true });
    kept += k;
    if (lines.length >= count) return { lines, total, stopped: false };
    if (kept >= maxBytes) return { lines, total, stopped: true };
    // Past what can be shown: the lines after this one would only be counted and dropped.
    if ((shown += Math.min(k, lineChars) + perLine) > budget) return { lines, total, stopped: true };
    at = nl + 1;
  }
  const rest = end - at;
  const k = Math.min(maxLine, rest);
  const lastFull = lines.length === count - 1 && k >= maxLine;
  if (lastFull || end - start >= maxScan) {
    if (rest) lines.push({ text: s.slice(at, at + k), bytes: rest, whole: false, ended: false });
    return { lines, total, stopped: lines.length < count };
  }
  if (rest) lines.push({ text: s.slice(at, at + k), bytes: rest, whole: k === rest, ended: true });
  return { lines, total, stopped: false };
}

/** A directory's JSON listing, as opposed to a .json file's content (both come as JSON). */
function isListing(bytes: Buffer): boolean {
  try {
    const j = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    return !!j && typeof j === 'object' && (j.kind === 'Index' || 'dir_exists' in j || 'uri_prefix' in j);
  } catch {
    return false;
  }
}

export class FilesKit {
  constructor(private readonly kits: Kits) {}

  private req(containerId: string, init: Parameters<Kits['request']>[2]): Promise<HttpResponse> {
    return this.kits.request(containerId, 'files', { timeoutMs: 60_000, ...init });
  }

  async stat(containerId: string, path: string, signal?: AbortSignal): Promise<FileStat | undefined> {
    const p = containerPath(path);
    const res = await this.req(containerId, { method: 'GET', path: `/api/v1/files/stat${encodePath(p)}`, signal });
    if (res.status === 404) {
      await res.body.dump();
      return undefined;
    }
    const s = await readJson<Record<string, unknown>>(res, 'files');
    return {
      name: String(s.name ?? posix.basename(p)),
      path: String(s.path ?? p),
      type: entryType(s.path_type ?? s.type, s.is_dir),
      size: Number(s.size ?? 0),
      mtimeMs: typeof s.mtime === 'number' ? s.mtime : undefined,
      permissions: typeof s.permissions === 'string' ? s.permissions : undefined,
      isSymlink: s.is_symlink === true,
    };
  }

  /**
   * One request for what used to take a stat and a read: GET the path. A directory answers its
   * JSON listing; a file its bytes with Content-Length and Last-Modified. Bytes are kept only up
   * to `max` (a larger file is left unread: its size says so). undefined when nothing is there.
   */
  async fetchFile(containerId: string, path: string, max: number, signal?: AbortSignal): Promise<Fetched | undefined> {
    const p = containerPath(path);
    if (RESERVED.has(p.split('/')[1] ?? '')) {
      // The root route (for paths under /stat, /copy, …) answers a directory in HTML: ask first.
      const s = await this.stat(containerId, p, signal);
      if (!s || s.type === 'dir') return s && { type: 'dir' };
    }
    const res = await this.req(containerId, { method: 'GET', path: routeFor(p), signal });
    if (res.status === 404) {
      await res.body.dump();
      return undefined;
    }
    await ensureOk(res, 'files');
    const json = (header(res, 'content-type') ?? '').includes('json');
    if (json && !p.toLowerCase().endsWith('.json')) {
      await res.body.dump().catch(() => undefined);
      return { type: 'dir' };
    }
    const len = header(res, 'content-length');
    const modified = Date.parse(header(res, 'last-modified') ?? '');
    const mtimeMs = Number.isNaN(modified) ? undefined : modified;
    const size = len !== undefined ? Number(len) : undefined;
    if (size !== undefined && size > max) {
      await res.body.dump().catch(() => undefined);
      return { type: 'file', size, mtimeMs };
    }
    if (size !== undefined) {
      // Its length is known and within max (HTTP framing holds the body to it): read in one go,
      // without an async iterator and a second copy (~70 µs less for 64 KB).
      const bytes = Buffer.from(await res.body.arrayBuffer());
      if (json && isListing(bytes)) return { type: 'dir' };
      return { type: 'file', size: bytes.length, mtimeMs, bytes };
    }
    const chunks: Buffer[] = [];
    let got = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      got += chunk.length;
      if (got > max) {
        res.body.destroy();
        return { type: 'file', size: size ?? got, mtimeMs };
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    if (json && isListing(bytes)) return { type: 'dir' };
    return { type: 'file', size: bytes.length, mtimeMs, bytes };
  }

  /** Raw bytes as a stream (never buffered here). */
  async download(containerId: string, path: string, signal?: AbortSignal): Promise<{ stream: HttpResponse['body']; size?: number }> {
    const res = await ensureOk(await this.req(containerId, { method: 'GET', path: routeFor(containerPath(path)), signal, timeoutMs: 60_000 }), 'files');
    const len = header(res, 'content-length');
    return { stream: res.body, size: len ? Number(len) : undefined };
  }

  async readBytes(containerId: string, path: string, signal?: AbortSignal): Promise<Buffer> {
    const { stream } = await this.download(containerId, path, signal);
    return Buffer.from(await stream.arrayBuffer());
  }

  /**
   * `?lines=a-b` (1-based, inclusive), read as a stream and never buffered whole: it stops once
   * the lines are read, or `maxBytes` of them are kept, or `maxScanBytes` were read; a line keeps
   * at most `maxLineBytes` (its full size is still counted while the scan allows). `total` is
   * known only when the range reached EOF [R:52765]; `stopped`: the range was not read to its end.
   */
  async readLines(
    containerId: string,
    path: string,
    from: number,
    to: number,
    opts: LineBounds & { signal?: AbortSignal } = {},
  ): Promise<{ lines: FileLine[]; total?: number; stopped: boolean }> {
    const res = await ensureOk(
      await this.req(containerId, { method: 'GET', path: routeFor(containerPath(path)), query: { lines: `${from}-${to}` }, signal: opts.signal }),
      'files',
    );
    const total = header(res, 'x-total-lines');
    const reader = boundedLines(to - from + 1, opts);
    let stopped = false;
    for await (const chunk of res.body) {
      if (!reader.push(chunk as Buffer)) {
        stopped = true;
        break;
      }
    }
    if (stopped) res.body.destroy();
    else reader.end();
    return { lines: reader.lines, total: total !== undefined ? Number(total) : undefined, stopped: stopped && !reader.done };
  }

  async sha256(containerId: string, path: string, signal?: AbortSignal): Promise<string> {
    const res = await ensureOk(
      await this.req(containerId, { method: 'GET', path: routeFor(containerPath(path)), query: { hash: 'true' }, signal }),
      'files',
    );
    const text = (await res.body.text()).trim();
    if (text.startsWith('{')) {
      const j = JSON.parse(text) as Record<string, unknown>;
      return String(j.hash ?? j.sha256 ?? '');
    }
    return text.split(/\s/)[0] ?? '';
  }

  /**
   * PUT raw bytes (or a stream). Returns the size the kit reports. A write into a directory that
   * does not exist creates the parents and is made again (`parents`, default true). A stream
   * cannot be sent twice: its directory must exist.
   */
  async write(
    containerId: string,
    path: string,
    body: Buffer | string | Readable,
    opts: { append?: boolean; parents?: boolean; signal?: AbortSignal } = {},
  ): Promise<number> {
    const p = containerPath(path);
    const parents = opts.parents ?? true;
    try {
      return await this.#put(containerId, p, body, opts);
    } catch (err) {
      const missingParent = err instanceof HoodyError && (err.kind === 'not_found' || err.kind === 'conflict');
      if (!parents || body instanceof Readable || !missingParent) throw err;
      await this.mkdir(containerId, posix.dirname(p), opts.signal);
      return this.#put(containerId, p, body, opts);
    }
  }

  async #put(containerId: string, p: string, body: Buffer | string | Readable, opts: { append?: boolean; signal?: AbortSignal }): Promise<number> {
    const res = await this.req(containerId, {
      method: 'PUT',
      path: opts.append ? `/api/v1/files/append${encodePath(p)}` : routeFor(p),
      headers: { 'content-type': 'application/octet-stream' },
      body,
      // A plain PUT replaces the whole file: re-sending it is harmless. An append is not.
      idempotent: !opts.append,
      signal: opts.signal,
      // A streamed upload may take as long as it takes (undici's idle timeouts still apply).
      timeoutMs: body instanceof Readable ? undefined : 120_000,
      deadlineMs: body instanceof Readable ? undefined : 120_000,
    });
    const r = await readJson<{ size?: number; new_size?: number }>(res, 'files');
    return Number(r?.new_size ?? r?.size ?? (typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : 0));
  }

  async list(containerId: string, path: string, signal?: AbortSignal): Promise<DirEntry[]> {
    const res = await this.req(containerId, { method: 'GET', path: routeFor(containerPath(path)), headers: { accept: 'application/json' }, signal });
    const ctype = header(res, 'content-type') ?? '';
    if (res.status < 400 && !ctype.includes('json')) {
      await res.body.dump();
      throw new HoodyError({ kind: 'bad_request', source: 'files', message: `${path} is a file, not a directory`, next: { code: 'read_file', path } });
    }
    const body = await readJson<Record<string, unknown>>(res, 'files');
    // `paths` [R:52718] or `entries` [S:7065]: accept both.
    const items = (body?.paths ?? body?.entries ?? []) as Record<string, unknown>[];
    return items.map((e) => ({
      name: String(e.name ?? ''),
      type: entryType(e.path_type ?? e.type, e.is_dir),
      size: Number(e.size ?? 0),
      mtimeMs: typeof e.mtime === 'number' ? e.mtime : typeof e.modified === 'number' ? e.modified * 1000 : undefined,
    }));
  }

  async glob(
    containerId: string,
    dir: string,
    pattern: string,
    opts: { maxResults?: number; signal?: AbortSignal } = {},
  ): Promise<{ entries: { path: string; type: 'file' | 'dir'; size: number }[]; truncated: boolean }> {
    const res = await this.req(containerId, {
      method: 'GET',
      path: `/api/v1/files/glob${encodePath(containerPath(dir))}`,
      query: { pattern, max_results: opts.maxResults ?? 1000 },
      signal: opts.signal,
    });
    const body = await readJson<{ entries?: Record<string, unknown>[]; paths?: Record<string, unknown>[]; truncated?: boolean }>(res, 'files');
    const items = body?.entries ?? body?.paths ?? [];
    return {
      entries: items.map((e) => ({ path: String(e.name ?? e.path ?? ''), type: entryType(e.path_type, e.is_dir), size: Number(e.size ?? 0) })),
      truncated: body?.truncated === true,
    };
  }

  async grep(
    containerId: string,
    dir: string,
    pattern: string,
    opts: { glob?: string; ignoreCase?: boolean; fixed?: boolean; maxMatches?: number; signal?: AbortSignal } = {},
  ): Promise<{ matches: GrepMatch[]; truncated: boolean; total?: number }> {
    const res = await this.req(containerId, {
      method: 'GET',
      path: `/api/v1/files/grep${encodePath(containerPath(dir))}`,
      query: {
        pattern,
        glob: opts.glob,
        ignore_case: opts.ignoreCase ? 'true' : undefined,
        fixed_string: opts.fixed ? 'true' : undefined,
        max_matches: opts.maxMatches ?? 500,
      },
      signal: opts.signal,
    });
    const body = await readJson<{ matches?: Record<string, unknown>[]; truncated?: boolean; total_matches?: number }>(res, 'files');
    return {
      matches: (body?.matches ?? []).map((m) => ({
        path: String(m.path ?? ''),
        line: Number(m.line_number ?? m.line_no ?? 0),
        text: String(m.line ?? m.text ?? '').replace(/\r?\n$/, ''),
      })),
      truncated: body?.truncated === true,
      total: body?.total_matches,
    };
  }

  async mkdir(containerId: string, path: string, signal?: AbortSignal): Promise<void> {
    const res = await this.req(containerId, { method: 'POST', path: routeFor(containerPath(path)), query: { mkdir: 'true' }, idempotent: true, signal });
    await readJson(res, 'files');
  }

  async copy(containerId: string, from: string, to: string, overwrite: boolean, signal?: AbortSignal): Promise<void> {
    const res = await this.req(containerId, {
      method: 'POST',
      path: `/api/v1/files/copy${encodePath(containerPath(from))}`,
      query: { copy_to: containerPath(to), overwrite: overwrite ? 'true' : 'false' },
      idempotent: overwrite,
      signal,
    });
    await readJson(res, 'files');
  }

  async move(containerId: string, from: string, to: string, signal?: AbortSignal): Promise<void> {
    const res = await this.req(containerId, {
      method: 'POST',
      path: `/api/v1/files/move${encodePath(containerPath(from))}`,
      query: { move_to: containerPath(to) },
      idempotent: false,
      signal,
    });
    await readJson(res, 'files');
  }

  /** Recursive for directories, with no confirmation on the kit side [S:7132]. */
  async remove(containerId: string, path: string, signal?: AbortSignal): Promise<void> {
    const res = await this.req(containerId, { method: 'DELETE', path: routeFor(containerPath(path)), signal });
    await readJson(res, 'files');
  }
}
