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

export class HoodyError extends Error {
  readonly kind: ErrorKind;
  readonly status?: number;
  readonly code?: string;
  /** Which surface answered: 'api' or a kit name. */
  readonly source: string;
  readonly retryAfterS?: number;
  readonly data?: unknown;
  /** What the caller should do next, when we know. */
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
  }
}

/** A failure after which the server may or may not have done the work. */
export const isAmbiguous = (e: HoodyError) => e.kind === 'unavailable' || e.kind === 'network' || e.kind === 'timeout';

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
  return new HoodyError({ kind, status, code, message, source, retryAfterS, data });
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
