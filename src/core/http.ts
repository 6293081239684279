/**
 * The thin HTTP core: one keep-alive undici dispatcher, request(), retries, timeouts, abort.
 * Knows Hoody's wire habits (error bodies, Retry-After, the proxy's 502 window); knows nothing of MCP.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { HoodyError, normalizeError, toHoodyError } from './errors.js';
import { observe } from '../observe.js';

/**
 * RFC 6761: every name under `.localhost` is loopback. The system resolver here does not do it,
 * so the dispatcher does: a simulator on 127.0.0.1 is reached with only HOODY_API_URL.
 */
export const localhostLookup: LookupFunction = (hostname, options, callback) => {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) {
    const family = typeof options === 'object' && options?.family === 6 ? 6 : 4;
    const address = family === 6 ? '::1' : '127.0.0.1';
    if (typeof options === 'object' && options?.all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    } else {
      callback(null, address, family);
    }
    return;
  }
  dns.lookup(hostname, options, callback);
};

/** undici (~1 MB of the bundle) is loaded by the first request, not at start-up. */
let undici: Promise<typeof import('undici')> | undefined;
/** undici once loaded: a request then reaches it without awaiting its loader (and the dispatcher's). */
let undiciLoaded: typeof import('undici') | undefined;
// undici is CommonJS: bundled, its dynamic import yields { default: exports }.
const loadUndici = () => (undici ??= import('undici').then((m) => (undiciLoaded = 'Agent' in m ? m : (m as unknown as { default: typeof m }).default)));

let sharedDispatcher: Agent | undefined;
export async function dispatcher(): Promise<Agent> {
  const { Agent } = await loadUndici();
  sharedDispatcher ??= new Agent({
    connect: { lookup: localhostLookup },
    keepAliveTimeout: 30_000,
    // undici keeps a socket for the server's keep-alive hint minus this margin (default 2 s): a
    // server hinting `timeout=2` (the simulator; Node's default is 5) had every request open a
    // new connection. 1 s is ample against the server closing first; idempotent requests that
    // lose that race are retried, and a POST's ambiguous failure is checked before a re-send.
    keepAliveTimeoutThreshold: 1_000,
    connections: 64,
  });
  return sharedDispatcher;
}

export type Body = string | Buffer | Uint8Array | Readable | undefined;

export interface RequestOptions {
  method: string;
  url: URL;
  /** Name of the surface for errors and logs ('api', 'files', …); never the URL (kit URLs are secrets). */
  source: string;
  headers?: Record<string, string>;
  /** JSON bodies are serialised; a Readable streams (and is then never retried). */
  body?: unknown;
  json?: boolean;
  /**
   * Whether the request may be re-sent after a failure that might have reached the server
   * (502/503/504, connection reset). Defaults to true for GET/HEAD/PUT/DELETE/OPTIONS.
   * Rejections that prove no work began (429, connection refused) are retried regardless.
   */
  idempotent?: boolean;
  /** For non-idempotent requests: called after an ambiguous failure; true = safe to re-send. */
  verifyNotStarted?: () => Promise<boolean>;
  signal?: AbortSignal;
  /** Per attempt, until the response headers arrive (an upload's body counts; a download's does not). */
  timeoutMs?: number;
  /**
   * Overall deadline for an answer (the response headers), across every attempt and the waits
   * between them, in ms. Default: 25 s for GET/HEAD/OPTIONS, 60 s for other methods, none for a
   * streamed body (bounded by undici's idle timeouts and the caller's signal). A caller that
   * legitimately waits longer (a snapshot, a lifecycle action) passes its own.
   */
  deadlineMs?: number;
  /** What answers, for the deadline error: "the files kit of container …". Default from `source`. */
  label?: string;
  retry?: Partial<RetryPolicy>;
}

export interface RetryPolicy {
  attempts: number; // total tries
  baseMs: number;
  maxMs: number;
  /** A Retry-After longer than this is not waited out: the 429 is returned to the caller. */
  maxRetryAfterS: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 250, maxMs: 4_000, maxRetryAfterS: 30 };

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const READ_DEADLINE_MS = 25_000;
export const WRITE_DEADLINE_MS = 60_000;
const RETRY_STATUS = new Set([502, 503, 504]);
/** A 503 that says the deployment lacks something (no claim-signing key [S:473]): retrying cannot help. */
const PERMANENT_CODES = new Set(['SIGNING_NOT_CONFIGURED']);
const NEVER_REACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** Wait `ms`; rejects with the signal's reason on abort. `background`: the timer does not keep the process alive. */
export function sleep(ms: number, signal?: AbortSignal, background = false): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (background) t.unref();
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function backoff(policy: RetryPolicy, attempt: number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return exp / 2 + Math.random() * (exp / 2); // jittered, never below half
}

export function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const n = Number(s);
  if (Number.isFinite(n) && n >= 0) return n;
  const d = Date.parse(s);
  return Number.isFinite(d) ? Math.max(0, (d - Date.now()) / 1000) : undefined;
}

function encodeBody(opts: RequestOptions): { body: Body; headers: Record<string, string>; replayable: boolean } {
  const headers = { ...(opts.headers ?? {}) };
  const b = opts.body;
  if (b === undefined || b === null) return { body: undefined, headers, replayable: true };
  if (b instanceof Readable) return { body: b, headers, replayable: false };
  if (typeof b === 'string' || b instanceof Uint8Array) return { body: b as Body, headers, replayable: true };
  headers['content-type'] ??= 'application/json';
  return { body: JSON.stringify(b), headers, replayable: true };
}

function defaultDeadline(method: string, replayable: boolean): number {
  if (!replayable) return Infinity;
  return READS.has(method) ? READ_DEADLINE_MS : WRITE_DEADLINE_MS;
}

function surface(source: string): string {
  return source === 'api' ? 'the Hoody control plane' : `the ${source} kit`;
}

/** The error for a request whose deadline passed: what hung, which operation, what to do. */
function deadlineError(opts: RequestOptions, method: string, ms: number): HoodyError {
  return new HoodyError({
    kind: 'timeout',
    code: 'DEADLINE',
    source: opts.source,
    message: `${opts.label ?? surface(opts.source)} did not answer ${method} ${opts.url.pathname} within ${Math.round(ms / 1000)} s`,
    hint: 'it may be overloaded or hung',
    next: { code: 'retry_later' },
  });
}

/**
 * One HTTP exchange with bounded, jittered retries, within one overall deadline. Returns the
 * response for any status the caller should see (including 4xx); throws HoodyError for what
 * retries could not fix.
 */
export function request(opts: RequestOptions): Promise<HttpResponse> {
  inflight++;
  return exchange(opts)
    .then(
      (res) => {
        if (res.status >= 400) observe.upstream({ source: opts.source, kind: 'error', status: res.status });
        return res;
      },
      (err: unknown) => {
        // The caller's own abort is no upstream error.
        if (!(err instanceof HoodyError && err.kind === 'aborted')) observe.upstream({ source: opts.source, kind: 'error', status: err instanceof HoodyError ? err.status : undefined });
        throw err;
      },
    )
    .finally(() => {
      if (--inflight === 0) for (const wake of idleWaiters.splice(0)) wake();
    });
}

let inflight = 0;
const idleWaiters: (() => void)[] = [];

/**
 * Resolves when no request to Hoody is in flight (checked after the current turn, so work an
 * abort has just set off, e.g. a remote cancel, is counted), or after `timeoutMs`.
 */
export async function whenIdle(timeoutMs: number): Promise<void> {
  await new Promise((r) => setImmediate(r));
  if (!inflight) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    idleWaiters.push(() => (clearTimeout(timer), resolve()));
  });
}

async function exchange(opts: RequestOptions): Promise<HttpResponse> {
  const policy = { ...DEFAULT_RETRY, ...opts.retry };
  const method = opts.method.toUpperCase();
  const idempotent = opts.idempotent ?? IDEMPOTENT.has(method);
  const { body, headers, replayable } = encodeBody(opts);
  const budget = opts.deadlineMs ?? defaultDeadline(method, replayable);
  const deadline = Date.now() + budget;
  let lastErr: HoodyError | undefined;
  const inTime = (waitMs: number) => Date.now() + waitMs < deadline;
  const wait = (ms: number) =>
    sleep(ms, opts.signal).catch((reason) => {
      throw toHoodyError(reason, opts.source);
    });

  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    if (opts.signal?.aborted) throw toHoodyError(opts.signal.reason ?? new DOMException('aborted', 'AbortError'), opts.source);
    // The timeout runs until the response headers arrive; a body that then streams for minutes
    // (a download) is bounded by undici's idle timeouts instead, and by the caller's signal.
    const remaining = deadline - Date.now();
    const byDeadline = remaining <= (opts.timeoutMs ?? Infinity);
    const limit = Math.min(opts.timeoutMs ?? Infinity, remaining);
    const timeout = new AbortController();
    const timer = Number.isFinite(limit) ? setTimeout(() => timeout.abort(new DOMException('timed out', 'TimeoutError')), Math.max(0, limit)) : undefined;
    const unfollow = follow(opts.signal, timeout);
    let res: Dispatcher.ResponseData;
    try {
      const u = undiciLoaded ?? (await loadUndici());
      res = await u.request(opts.url, {
        method: method as Dispatcher.HttpMethod,
        headers: { 'user-agent': 'hoody-mcp', ...headers },
        body,
        signal: timeout.signal,
        dispatcher: sharedDispatcher ?? (await dispatcher()),
      });
      clearTimeout(timer);
    } catch (err) {
      clearTimeout(timer);
      unfollow();
      if (opts.signal?.aborted) throw toHoodyError(opts.signal.reason ?? err, opts.source);
      if (timeout.signal.aborted && byDeadline) throw deadlineError(opts, method, budget);
      const e = toHoodyError(err, opts.source);
      if (e.kind === 'aborted') throw new HoodyError({ ...e, kind: 'timeout', message: `request to ${opts.source} timed out`, source: e.source });
      lastErr = e;
      const neverReached = !!e.code && NEVER_REACHED.has(e.code);
      if (!replayable || attempt === policy.attempts - 1) throw e;
      const delay = backoff(policy, attempt);
      if (!inTime(delay)) throw e.kind === 'timeout' ? deadlineError(opts, method, budget) : e;
      if (!neverReached && !idempotent && !(await safeToResend(opts))) throw e;
      observe.upstream({ source: opts.source, kind: 'retry', status: e.status });
      await wait(delay);
      continue;
    }

    const status = res.statusCode;
    const retryAfter = parseRetryAfter(res.headers['retry-after']);
    const delay = retryAfter !== undefined ? retryAfter * 1000 : backoff(policy, attempt);
    // A retry that would pass the deadline is not made: the caller sees this answer.
    const canTryAgain = replayable && attempt < policy.attempts - 1 && inTime(delay);
    const retryable429 = status === 429 && (retryAfter ?? 0) <= policy.maxRetryAfterS;
    const retryable5xx = canTryAgain && RETRY_STATUS.has(status) && (idempotent || (await safeToResend(opts)));
    if (canTryAgain && (retryable429 || retryable5xx)) {
      const text = await res.body.text().catch(() => '');
      unfollow();
      lastErr = normalizeError(status, text, opts.source, retryAfter);
      if (lastErr.code && PERMANENT_CODES.has(lastErr.code)) throw lastErr;
      observe.upstream({ source: opts.source, kind: 'retry', status });
      await wait(delay);
      continue;
    }
    // The caller's abort still reaches the body as it streams, until it closes.
    if (res.body.destroyed) unfollow();
    else res.body.once('close', unfollow);
    return { status, headers: res.headers, body: res.body };
  }
  throw lastErr ?? new HoodyError({ kind: 'server', source: opts.source, message: 'request failed' });
}

/**
 * `signal`'s abort passed on to `to` until the returned function is called: what
 * AbortSignal.any([signal, to.signal]) gives, at a tenth of its cost per request (~25 µs on a
 * busy machine), and nothing left on the caller's signal once the exchange is over.
 */
function follow(signal: AbortSignal | undefined, to: AbortController): () => void {
  if (!signal) return () => undefined;
  const onAbort = () => to.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

async function safeToResend(opts: RequestOptions): Promise<boolean> {
  if (!opts.verifyNotStarted) return false;
  try {
    return await opts.verifyNotStarted();
  } catch {
    return false;
  }
}

/** Read a response as JSON, or throw the normalised error for a non-2xx status. */
export async function readJson<T = unknown>(res: HttpResponse, source: string): Promise<T> {
  const text = await res.body.text().catch((err: unknown) => {
    // A connection dropped mid-body: the request arrived and may have done its work (ambiguous).
    const e = toHoodyError(err, source);
    throw e.kind === 'network' ? new HoodyError({ kind: 'network', source, code: e.code, status: res.status, message: `${source} cut its answer off mid-body` }) : e;
  });
  if (res.status >= 400) throw normalizeError(res.status, text, source, parseRetryAfter(res.headers['retry-after']));
  if (!text.trim()) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new HoodyError({ kind: 'server', status: res.status, source, message: `${source} answered with a body that is not JSON` });
  }
}

/** Throw the normalised error for a non-2xx status (draining the body); otherwise return the response. */
export async function ensureOk(res: HttpResponse, source: string): Promise<HttpResponse> {
  if (res.status < 400) return res;
  const text = await res.body.text().catch(() => '');
  throw normalizeError(res.status, text, source, parseRetryAfter(res.headers['retry-after']));
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Append query parameters; arrays repeat the key; undefined/null/false are skipped; true is a bare flag value 'true'. */
export function withQuery(url: URL, query?: Record<string, unknown>): URL {
  if (!query) return url;
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === false) continue;
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  return url;
}
