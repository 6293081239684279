/**
 * Structured logs (`--log-format json`): one line per HTTP request on stderr, and the start and
 * stop lines, as JSON. A line is built only from allowlisted fields (time, level, request id,
 * JSON-RPC method names, the tool name, status, duration, replica) and passes the credential
 * scrubber anyway: never a credential, a claim, a kit URL or a tool's arguments.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { hostname } from 'node:os';
import { Secrets } from '../core/secrets.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const METHOD = /^[a-z][A-Za-z0-9_/.-]{0,63}$/;
const MAX_METHODS = 10;
const scrubber = new Secrets();

/** This replica, as logs name it: the host name (a container's id under compose), bounded. */
export const replicaId = (hostname().replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64) || 'unknown') + `:${process.pid}`;

/** The caller's X-Request-Id when it is a plain token, else a fresh one. */
export function requestIdOf(req: http.IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** One JSON log line, scrubbed, on stderr. */
export function writeLine(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, string | number | boolean | string[] | undefined> = {}): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, replica: replicaId, ...fields });
  process.stderr.write(`${scrubber.scrub(line)}\n`);
}

/** What a request's log line says about its JSON-RPC body: method names and the tool called (a known name, else `other`). */
export interface RequestNote {
  methods?: string[];
  tool?: string;
}

export function noteOf(body: unknown, tools: ReadonlySet<string>): RequestNote {
  const msgs = (Array.isArray(body) ? body : [body]).slice(0, MAX_METHODS);
  const methods: string[] = [];
  let tool: string | undefined;
  for (const m of msgs) {
    const msg = m as { method?: unknown; params?: { name?: unknown } } | null;
    if (!msg || typeof msg !== 'object') continue;
    if (typeof msg.method === 'string') methods.push(METHOD.test(msg.method) ? msg.method : 'other');
    if (msg.method === 'tools/call' && typeof msg.params?.name === 'string') tool = tools.has(msg.params.name) ? msg.params.name : 'other';
  }
  return { methods, tool };
}

/** Log the request when its response closes; returns where its body's note goes. */
export function logRequest(req: http.IncomingMessage, res: http.ServerResponse, id: string): RequestNote {
  const started = performance.now();
  const note: RequestNote = {};
  res.once('close', () => {
    const path = (req.url ?? '/').split('?')[0];
    const status = res.headersSent ? res.statusCode : 0;
    writeLine(status >= 500 ? 'error' : 'info', 'request', {
      request_id: id,
      http_method: /^[A-Z]{1,10}$/.test(req.method ?? '') ? req.method : 'other',
      route: ['/mcp', '/healthz', '/readyz', '/metrics'].includes(path!) ? path : 'other',
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      methods: note.methods,
      tool: note.tool,
      completed: res.writableFinished,
    });
  });
  return note;
}
