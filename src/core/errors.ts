/**
 * HoodyError: one error type for everything that goes wrong talking to Hoody.
 *
 * Every Hoody surface has its own error body (seed-kits-exec-files.md §0.4):
 *   control plane  {statusCode, error, message, data?}
 *   terminal       {statusCode, error, message}
 *   files          {error, success:false}          (some 429s have an empty body)
 *   watch          {code, message, details}
 *   daemon         {success:false, error}
 *   exec admin     {error, code, timestamp, details?}
 *   proxy 502/503  an HTML page "<!DOCTYPE html>…Error 502"
 * normalizeError() folds them all into {status, code, message}. Messages never carry a
 * credential: URLs are reduced to the kit name before they reach an error.
 */

export type ErrorKind =
  | 'bad_request'
  | 'auth'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'network'
  | 'aborted'
  | 'server'
  | 'not_running';

/**
 * What the caller can do next, as data: the tool layer words it (naming its tools and arguments);
 * the core never does. A small closed set, so every code has words.
 */
export type NextStep =
  /** No container was given and there is no default: pass one. */
  | { code: 'pass_container' }
  /** The container reference matched nothing: list the containers. */
  | { code: 'list_containers' }
  /** The name matched several containers: pass the id. */
  | { code: 'pass_container_id' }
  /** The container is stopped or paused: run this lifecycle action first. */
  | { code: 'start_container'; action: 'start' | 'resume' }
  /** The container is between states: wait, check its status, retry. */
  | { code: 'wait_container' }
  /** Transient (a deadline, a rate limit, a hung kit): retry in a moment. */
  | { code: 'retry_later'; afterS?: number }
  /** A path does not exist: look at what is there. */
  | { code: 'list_dir'; path?: string }
  /** A directory was given where a file is wanted, or the other way round. */
  | { code: 'read_file'; path: string }
  | { code: 'list_instead'; path: string }
  /** An edit was refused because the file changed: read it again, then edit. */
  | { code: 'reread_file'; path: string }
  /** The text to replace is not in the file: read it and copy the exact text. */
  | { code: 'copy_exact'; path: string }
  /** The text to replace occurs more than once: widen it, or replace every occurrence. */
  | { code: 'widen_match'; count: number }
  /** A job handle is malformed: pass the one a run returned. */
  | { code: 'pass_job' }
  /** A watch cursor is malformed: pass one a watch returned, or none. */
  | { code: 'pass_cursor' }
  /** Events since a cursor are lost: watch again without it, and re-read what is watched. */
  | { code: 'drop_cursor' }
  /** container creation: no project, several projects, no server. */
  | { code: 'create_project' }
  /** A project reference is not a project id. */
  | { code: 'list_projects' }
  | { code: 'choose_project'; choices: { id: string; name: string }[] }
  | { code: 'rent_server' }
  /** A screen frame is missing or stale: take a new screenshot of that display. */
  | { code: 'new_frame'; display: number }
  /** A browser ref is from an older page (or none): take a new snapshot; a tab id is unknown: list the tabs. */
  | { code: 'snapshot_again' }
  | { code: 'list_tabs' }
  /** agent: a turn is running; follow it or cancel it. */
  | { code: 'wait_turn' }
  /** agent: the session is parked on a gate; answer it first. */
  | { code: 'answer_gate' }
  /** agent: the gate answered is not the one parked (stale, answered, none); look at the session again. */
  | { code: 'reread_gate' }
  /** agent: the session is unknown (closed, deleted, mistyped); list the sessions. */
  | { code: 'list_sessions' }
  /** A service reference matched nothing: list the services. */
  | { code: 'list_services' }
  /** A SQLite database does not exist: create it, or check the name. */
  | { code: 'create_db' };

export type NextCode = NextStep['code'];

export class HoodyError extends Error {
  readonly kind: ErrorKind;
  readonly status?: number;
  readonly code?: string;
  /** Which surface answered: 'api' or a kit name. */
  readonly source: string;
  readonly retryAfterS?: number;
  readonly data?: unknown;
  /** What the caller should do next, as data (the tool layer words it). */
  next?: NextStep;
  /** Tool-neutral words for the next step, when `next` has no code for it (never a tool name). */
  hint?: string;

  constructor(init: {
    kind: ErrorKind;
    message: string;
    source: string;
    status?: number;
    code?: string;
    retryAfterS?: number;
    data?: unknown;
    hint?: string;
    next?: NextStep;
  }) {
    super(init.message);
    this.name = 'HoodyError';
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.source = init.source;
    this.retryAfterS = init.retryAfterS;
    this.data = init.data;
    this.hint = init.hint;
    this.next = init.next;
  }
}

/** A failure after which the server may or may not have done the work. */
/**
 * Whether the request may have done its work though no usable answer came: a gateway error, a
 * dropped connection, a timeout, or a success status whose body is garbled (truncated JSON, a
 * proxy's HTML page).
 */
export const isAmbiguous = (e: HoodyError) =>
  e.kind === 'unavailable' || e.kind === 'network' || e.kind === 'timeout' || (e.kind === 'server' && e.status !== undefined && e.status < 300);

export function kindForStatus(status: number): ErrorKind {
  if (status === 400 || status === 405 || status === 413 || status === 415 || status === 422) return 'bad_request';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 409 || status === 412 || status === 428) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'server';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** Fold any Hoody error body into a HoodyError. `text` is the raw body (may be empty or HTML). */
export function normalizeError(status: number, text: string, source: string, retryAfterS?: number): HoodyError {
  const kind = kindForStatus(status);
  const trimmed = text.trim();
  let message: string | undefined;
  let code: string | undefined;
  let data: unknown;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const body = JSON.parse(trimmed) as Record<string, unknown>;
      const reason = str(body.error);
      const msg = str(body.message);
      // {statusCode, error:"Bad Request", message} | {error, success:false} | {code, message, details}
      // | {error:"VALIDATION_ERROR", code, …} | {success:false, error}
      code = str(body.code) ?? (reason && /^[A-Z][A-Z0-9_]+$/.test(reason) ? reason : undefined);
      message = msg ?? reason;
      if (msg && reason && reason !== msg && !isReasonPhrase(reason) && reason !== code) message = `${reason}: ${msg}`;
      const details = body.details ?? body.data;
      if (details !== undefined && details !== null) data = details;
    } catch {
      /* not JSON after all */
    }
  }
  if (!message) {
    if (/<!doctype html|<html/i.test(trimmed)) {
      message =
        status === 502 || status === 503 || status === 504
          ? `the Hoody proxy could not reach the ${source === 'api' ? 'API' : `container's ${source} kit`} (HTTP ${status})`
          : `HTTP ${status} (HTML error page)`;
    } else if (trimmed) {
      message = trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
    } else {
      message = status === 429 ? 'rate limited' : `HTTP ${status} with an empty body`;
    }
  }
  const next: NextStep | undefined = kind === 'rate_limited' || kind === 'unavailable' ? { code: 'retry_later', afterS: retryAfterS } : undefined;
  return new HoodyError({ kind, status, code, message, source, retryAfterS, data, next });
}

const REASONS = new Set([
  'Bad Request', 'Unauthorized', 'Forbidden', 'Not Found', 'Conflict', 'Too Many Requests',
  'Internal Server Error', 'Service Unavailable', 'Bad Gateway', 'Gateway Timeout', 'Unprocessable Entity',
  'Method Not Allowed', 'Payload Too Large', 'Precondition Failed', 'Precondition Required',
]);
function isReasonPhrase(s: string): boolean {
  return REASONS.has(s);
}

/** Turn anything thrown into a HoodyError (network failures, aborts, timeouts). */
export function toHoodyError(err: unknown, source: string): HoodyError {
  if (err instanceof HoodyError) return err;
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  if (e?.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new HoodyError({ kind: 'timeout', source, code, message: `request to ${source} timed out` });
  }
  if (e?.name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') {
    return new HoodyError({ kind: 'aborted', source, code, message: `request to ${source} was cancelled` });
  }
  return new HoodyError({
    kind: 'network',
    source,
    code,
    message: `could not reach ${source === 'api' ? 'the Hoody API' : `the ${source} kit`}${code ? ` (${code})` : ''}`,
  });
}
