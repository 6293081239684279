/**
 * Every URL path this core sends is built here: interpolated values are single, percent-encoded
 * segments (never `.`/`..`, never empty), ids are checked for shape, and a path handed to the
 * HTTP layer is checked once more (`safePath`) so a raw string cannot climb out of its route or
 * carry a query. Nothing a caller types is ever concatenated into a URL as is.
 */
import { HoodyError, type NextStep } from './errors.js';

const HEX_ID = /^[0-9a-f]{24}$/;

function refuse(message: string, next?: NextStep): never {
  throw new HoodyError({ kind: 'bad_request', source: 'config', message, next });
}

/** One path segment: percent-encoded; empty, `.` and `..` refused. */
export function segment(value: string | number, what = 'path segment'): string {
  const s = String(value);
  if (!s || s === '.' || s === '..' || s.length > 1024) refuse(`${what} "${s.slice(0, 80)}" cannot be used in a URL`);
  return encodeURIComponent(s);
}

/** A Hoody id (24 hex characters: projects, containers, realms). */
export function hexId(value: string, what: string, next?: NextStep): string {
  if (typeof value !== 'string' || !HEX_ID.test(value)) {
    refuse(`${what} "${String(value).slice(0, 80)}" is not an id (24 hex characters)`, next);
  }
  return value;
}

/** `urlPath\`/containers/${id}/snapshots\``: every value becomes one encoded segment. */
export function urlPath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => (out += segment(v) + strings[i + 1]!));
  return safePath(out);
}

const PCHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/**
 * The last check before a path meets `new URL(path, base)`: absolute, no `//` start (another
 * host), no dot segments (raw or encoded), no query or fragment, only URL path characters.
 */
export function safePath(path: string): string {
  const ok =
    path.startsWith('/') &&
    !path.startsWith('//') &&
    PCHARS.test(path) &&
    path.split('/').every((s) => {
      const d = s.replace(/%2e/gi, '.');
      return d !== '.' && d !== '..';
    });
  if (!ok) refuse(`refusing to request the URL path "${path.slice(0, 120)}"`);
  return path;
}
