/**
 * Any documented endpoint: the control plane (`api`, with the Hoody token) or a kit of a container
 * (URL resolved, claim minted for the claim kits, never the token elsewhere — see kits.ts). The
 * path is checked so it cannot leave the chosen host (no scheme, no `//host`, no `.`/`..`
 * segments, encoded or not); the answer is read up to a bound in bytes and time (a stream is cut,
 * and says so), the control plane's envelope is unwrapped, and error statuses are normalised.
 */
import { HoodyError, normalizeError } from './errors.js';
import { header, parseRetryAfter, request, withQuery, type HttpResponse } from './http.js';
import type { ControlPlane } from './control.js';
import { kitSlug, type Kits } from './kits.js';

export const RAW_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type RawMethod = (typeof RAW_METHODS)[number];

export interface RawRequest {
  kit: string;
  method: RawMethod;
  path: string;
  containerId?: string;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
}

export interface RawResponse {
  status: number;
  contentType: string;
  /** The body as text (JSON re-serialised compactly; the api envelope unwrapped to `data`). */
  text: string;
  /** The control plane's `message`, when enveloped. */
  message?: string;
  bytes: number;
  /** The body was cut (size or time bound): `text` holds its start. */
  cut?: 'size' | 'time';
}

const MAX_BYTES = 1024 * 1024;
const MAX_READ_MS = 10_000;
const bad = (message: string) => new HoodyError({ kind: 'bad_request', source: 'raw', message });

/** A path that stays on its host: `/…`, no `//`, no `\`, no control characters, no `?`/`#`, no `.`/`..` segment even encoded. */
export function checkRawPath(path: string): string {
  if (!path.startsWith('/') || path.startsWith('//')) throw bad('path must start with a single / (the host is chosen by kit; query goes in query)');
  if (path.length > 2048) throw bad('path is longer than 2048 characters');
  if (/[\x00-\x20\x7f\\?#]/.test(path)) throw bad('path must not contain spaces, control characters, \\, ? or # (percent-encode them; put the query in query)');
  for (const seg of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw bad(`path segment "${seg.slice(0, 50)}" is not valid percent-encoding`);
    }
    if (decoded.split(/[/\\]/).some((s) => s === '.' || s === '..')) throw bad('path must not contain . or .. segments');
  }
  return path;
}

async function readBounded(res: HttpResponse): Promise<{ buf: Buffer; bytes: number; cut?: 'size' | 'time' }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let cut: 'size' | 'time' | undefined;
  const timer = setTimeout(() => {
    cut = 'time';
    res.body.destroy();
  }, MAX_READ_MS);
  try {
    for await (const c of res.body) {
      const chunk = c as Buffer;
      bytes += chunk.length;
      chunks.push(chunk);
      if (bytes > MAX_BYTES) {
        cut = 'size';
        res.body.destroy();
        break;
      }
    }
  } catch (e) {
    if (!cut) throw e;
  } finally {
    clearTimeout(timer);
  }
  const buf = Buffer.concat(chunks);
  return { buf: buf.subarray(0, MAX_BYTES), bytes, cut };
}

const TEXTUAL = /json|text|xml|yaml|javascript|html|csv|event-stream|x-www-form-urlencoded/i;

export class Raw {
  constructor(
    private readonly control: ControlPlane,
    private readonly kits: Kits,
  ) {}

  async send(r: RawRequest, signal?: AbortSignal): Promise<RawResponse> {
    const path = checkRawPath(r.path);
    if (r.kit.length > 40) throw bad('kit is longer than 40 characters');
    if (r.kit !== 'api') kitSlug(r.kit); // a slug, or a clear error
    const string = typeof r.body === 'string';
    const body = r.body === undefined || r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body;
    const headers: Record<string, string> = string && body !== undefined ? { 'content-type': 'text/plain; charset=utf-8' } : {};
    let res: HttpResponse;
    if (r.kit === 'api') {
      if (!path.startsWith('/api/')) throw bad('control-plane paths start with /api/ (e.g. /api/v1/projects/)');
      const url = withQuery(new URL(path, this.control.base), r.query);
      res = await request({ method: r.method, url, source: 'api', headers: { ...headers, authorization: `Bearer ${this.control.token}`, accept: 'application/json' }, body, signal, timeoutMs: 30_000 });
    } else {
      if (!r.containerId) throw bad('a kit request needs a container');
      res = await this.kits.request(r.containerId, r.kit, { method: r.method, path, query: r.query, headers, body, signal, timeoutMs: 30_000 });
    }
    const source = r.kit === 'api' ? 'api' : r.kit;
    const { buf, bytes, cut } = await readBounded(res);
    const contentType = header(res, 'content-type') ?? '';
    if (res.status >= 400) {
      const err = normalizeError(res.status, buf.toString('utf8'), source, parseRetryAfter(res.headers['retry-after']));
      // Hoody's router treats a trailing slash as part of the route (list routes end with one).
      if (res.status === 404 && /^Route \S+ not found/.test(err.message) && !path.endsWith('/')) err.hint ??= `its list routes end with a slash: try ${path}/`;
      throw err;
    }
    const out: RawResponse = { status: res.status, contentType, text: '', bytes, cut };
    if (!bytes) return out;
    if (!TEXTUAL.test(contentType) && buf.includes(0)) {
      out.text = `(${bytes} bytes of ${contentType || 'binary data'}, not shown)`;
      return out;
    }
    out.text = buf.toString('utf8');
    if (/json/i.test(contentType) && !cut) {
      try {
        let v = JSON.parse(out.text) as unknown;
        if (r.kit === 'api' && v && typeof v === 'object' && 'statusCode' in v) {
          const env = v as { message?: string; data?: unknown };
          out.message = env.message;
          v = env.data ?? null;
        }
        out.text = JSON.stringify(v, null, 1);
      } catch {
        /* shown as sent */
      }
    }
    return out;
  }
}
