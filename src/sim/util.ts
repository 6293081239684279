/** Small HTTP and id helpers shared by the control plane and the kits. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** 24-char lowercase hex, ObjectId-like (4-byte timestamp + 8 random bytes). */
export function newId(): string {
  const ts = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  return ts + randomBytes(8).toString('hex');
}

export const HEX24 = /^[0-9a-f]{24}$/;

export function isoNow(): string {
  return new Date().toISOString();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': '0', ...headers });
  res.end();
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large', 422: 'Unprocessable Entity',
  428: 'Precondition Required', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function reason(status: number): string {
  return REASONS[status] ?? 'Error';
}

/**
 * The Hoody proxy's HTML error page: "first hit may return 502 from the proxy with a
 * `<!DOCTYPE html>…Error 502` body" [S:6890], [S:424]. Same page shape for 404/503/504.
 */
export function proxyErrorPage(status: number): string {
  return `<!DOCTYPE html><html><head><title>Error ${status}</title></head><body><h1>Error ${status}</h1><p>${reason(status)}</p><hr><p>hoody proxy</p></body></html>`;
}

export function sendProxyError(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  sendText(res, status, proxyErrorPage(status), 'text/html; charset=utf-8', headers);
}

/** Reads a whole (small) request body; rejects beyond `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export class BodyTooLarge extends Error {
  constructor() {
    super('Request body too large');
  }
}

export class BadJson extends Error {}

/** Parses a JSON object body; empty body → `{}`; anything else that is not an object → BadJson. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadJson('Invalid JSON body');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadJson('Body must be a JSON object');
  return v as Record<string, unknown>;
}

/** Query flag semantics used by the kits: present with '', 'true' or '1' → true. */
export function flag(q: URLSearchParams, name: string): boolean {
  if (!q.has(name)) return false;
  const v = (q.get(name) ?? '').toLowerCase();
  return v === '' || v === 'true' || v === '1' || v === 'yes';
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function intParam(v: string | null | undefined, def: number, min: number, max: number): number {
  if (v === null || v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n)) return def;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}
