/**
 * Streamable HTTP at /mcp (both protocol eras via the SDK's createMcpHandler), with
 * - a DNS-rebinding guard: Host and Origin must name this server (403 otherwise);
 * - per-request credentials: `Authorization: Bearer <Hoody token>` is used for that request only.
 *   Without one: the server's own token serves loopback clients; anyone else gets 401.
 * - one MCP handler per credential (subscriptions stay with their owner);
 * - cancellation that reaches the request it names, also on stateless 2025-era serving;
 * - GET /healthz → 200; GET /readyz → 200 when serving (and the shared store answers), else 503;
 *   GET /metrics → Prometheus text; anything else → 404;
 * - a graceful drain (SIGTERM, see `drain`) and, with --log-format json, one log line per request.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { Config } from '../config.js';
import { credentialAccepted, offerFor, serverFactory, subscriptionsFor, toolsFor, verifyCredential, type Scope } from '../server.js';
import type { Subscriptions } from '../mcp/subscriptions.js';
import { ConfigError } from '../mcp/registry.js';
import { Tenants } from '../core/lru.js';
import { observe } from '../observe.js';
import { overLimit } from './lines.js';
import { logRequest, noteOf, requestIdOf, type RequestNote } from './log.js';
import { startMetrics, type Metrics } from './metrics.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith('127.');

/** The host of a Host header (`host[:port]`, nothing else: no userinfo, no path); undefined if it is not one. */
export function hostOf(hostHeader: string): string | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::\d{1,5})?$/.exec(hostHeader.toLowerCase());
  return m?.[1];
}

/** Bodies above this from a credential Hoody has not accepted yet wait until it is checked. */
const UNVERIFIED_BODY = 1024 * 1024;

class TooLarge extends Error {}

/**
 * Let the rest of a refused body go by unread so the client, still sending, reads the answer
 * instead of a reset; a body that goes on past `cap` bytes gets its connection closed.
 */
function discard(req: http.IncomingMessage, cap: number): void {
  let seen = 0;
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > cap) req.socket.destroy();
  });
  req.resume();
}

/** The body, up to `max` bytes: a larger Content-Length fails before reading; a longer stream stops at the cap. */
function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.reject(new TooLarge(`a body of ${declared} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= max) return void chunks.push(c);
      req.off('data', onData);
      chunks.length = 0;
      reject(new TooLarge(`a body of more than ${max} bytes`));
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Cancellation for stateless 2025-era HTTP: the client's `notifications/cancelled` arrives as a
 * separate POST, answered by a different server instance. In-flight requests are tracked by
 * (credential, JSON-RPC id) so the notification can abort the request it names — unless two
 * in-flight requests share that key, when aborting either would be a guess.
 */
class Inflight {
  readonly #byKey = new Map<string, Set<AbortController>>();

  track(who: string, body: unknown, res: http.ServerResponse): AbortSignal | undefined {
    const msgs = Array.isArray(body) ? body : [body];
    const ids = msgs.filter((m) => m && typeof m === 'object' && 'method' in m && 'id' in m).map((m) => String((m as { id: unknown }).id));
    if (!ids.length) return undefined;
    const ac = new AbortController();
    const keys = ids.map((id) => `${who}:${id}`);
    for (const k of keys) {
      const set = this.#byKey.get(k) ?? new Set();
      set.add(ac);
      this.#byKey.set(k, set);
    }
    res.once('close', () => {
      for (const k of keys) {
        const set = this.#byKey.get(k);
        set?.delete(ac);
        if (set && !set.size) this.#byKey.delete(k);
      }
    });
    return ac.signal;
  }

  cancel(who: string, id: string, reason: string): void {
    const set = this.#byKey.get(`${who}:${id}`);
    if (set?.size === 1) for (const ac of set) ac.abort(new DOMException(reason, 'AbortError'));
  }
}
const inflight = new Inflight();

function cancelFrom(who: string, body: unknown): void {
  for (const m of Array.isArray(body) ? body : [body]) {
    const msg = m as { method?: string; params?: { requestId?: unknown; reason?: string } };
    if (msg?.method === 'notifications/cancelled' && msg.params?.requestId !== undefined) {
      inflight.cancel(who, String(msg.params.requestId), msg.params.reason ?? 'cancelled by the client');
    }
  }
}

/**
 * One MCP handler per credential (kept in `Tenants`: made-up credentials churn a small trial pool
 * and cannot push out accepted ones; one with a request or stream open is never closed). Its
 * 2026-07-28 `subscriptions/listen` bus then reaches only that credential's listeners (a shared
 * bus would tell one tenant about another's files), and the URIs a listen asks for are watched
 * for as long as its response stream stays open.
 */
class Principal {
  readonly #mcp: McpHttpHandler;
  readonly #subs: Subscriptions;
  readonly handle: ReturnType<typeof toNodeHandler>;
  /** Requests (and listen streams) open now. */
  active = 0;

  constructor(
    config: Config,
    readonly token: string,
  ) {
    this.#subs = subscriptionsFor(config, { token }, (uri) => this.#mcp.notify.resourceUpdated(uri));
    // Every request of this handler carries this credential (see serveHttp): its part is made once.
    const instance = serverFactory(config, { token }, true);
    this.#mcp = createMcpHandler(
      (ctx) =>
        instance({
          signal: (ctx.authInfo?.extra as { signal?: AbortSignal } | undefined)?.signal,
          handBack: (ctx.authInfo?.extra as { handBack?: AbortSignal } | undefined)?.handBack,
          scope: (ctx.authInfo?.extra as { scope?: Scope } | undefined)?.scope,
          onlyTool: (ctx.authInfo?.extra as { onlyTool?: string } | undefined)?.onlyTool,
          // Only a 2026-07-28 listen stream can carry updates; a stateless 2025 request cannot.
          subscriptions: ctx.era === 'modern' ? this.#subs : undefined,
        }),
      { maxRequestBodySize: config.maxBodyBytes, onerror: () => undefined },
    );
    this.handle = toNodeHandler(this.#mcp, { maxRequestBodySize: config.maxBodyBytes });
  }

  /** Watch what a subscriptions/listen asks for while its stream is open. */
  listenFrom(body: unknown, res: http.ServerResponse): void {
    const msg = body as { method?: string; params?: { notifications?: { resourceSubscriptions?: unknown } } };
    if (msg?.method !== 'subscriptions/listen') return;
    const uris = msg.params?.notifications?.resourceSubscriptions;
    if (!Array.isArray(uris)) return;
    const added: string[] = [];
    for (const uri of uris) {
      if (typeof uri !== 'string') continue;
      this.#subs.add(uri).then(() => (res.writableEnded || res.destroyed ? this.#subs.remove(uri) : added.push(uri)), () => undefined);
    }
    res.once('close', () => added.splice(0).forEach((uri) => this.#subs.remove(uri)));
  }

  async close(): Promise<void> {
    this.#subs.close();
    await this.#mcp.close().catch(() => undefined);
  }
}

export interface HttpServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
  /**
   * Graceful drain (SIGTERM): /readyz turns 503, the listening socket closes, a request arriving
   * on an old connection is served with `Connection: close` while calls in flight may finish
   * (after that: 503 `draining`, nothing run), streams end (clients resume elsewhere), calls in
   * flight get `ms` to finish, then waiting calls hand back their handle.
   * `close()` then ends what is left.
   */
  drain(ms: number): Promise<void>;
}

/** What the operations side of one HTTP server holds: drain state, open requests and streams, metrics. */
interface Ops {
  draining: boolean;
  /** /mcp requests in flight (streams apart). */
  requests: Set<http.ServerResponse>;
  /** Open response streams: GET SSE and subscriptions/listen. */
  streams: Set<http.ServerResponse>;
  /** Aborted when the drain's time is up: waiting calls hand back a handle instead of their result. */
  handBack: AbortController;
  metrics?: Metrics;
  tools: ReadonlySet<string>;
  /** Called when a request ends (the drain waits on it). */
  settled?: () => void;
}

/** How long calls handed back get to answer before the connections close. */
const HAND_BACK_MS = 2_000;

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** 403 unless Host (and Origin, if sent) name this server: the DNS-rebinding guard. */
function refusedOrigin(req: http.IncomingMessage, allowed: Set<string>): string | undefined {
  const host = hostOf(req.headers.host ?? '');
  if (!host || !allowed.has(host)) return `Host "${(req.headers.host ?? '').slice(0, 100)}" is not allowed`;
  const origin = req.headers.origin;
  if (!origin) return undefined;
  try {
    const h = new URL(origin).hostname.toLowerCase();
    if (allowed.has(h) || allowed.has(`[${h}]`)) return undefined;
  } catch {
    /* not a URL */
  }
  return 'Origin not allowed';
}

/** The credential of a request: its bearer (scheme case-insensitive), or the server's own for loopback. */
function credentialOf(req: http.IncomingMessage, config: Config, loopback: boolean): { token: string } | { status: 401; body: unknown; challenge: string } {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^bearer[ \t]+([^\s]{1,4096})[ \t]*$/i.exec(auth);
    if (m) return { token: m[1]! };
    return { status: 401, body: { error: 'invalid_token', message: 'use Authorization: Bearer <Hoody token>' }, challenge: 'Bearer realm="hoody-mcp", error="invalid_token"' };
  }
  if (loopback && config.token) return { token: config.token };
  return { status: 401, body: { error: 'unauthorized', message: 'send Authorization: Bearer <Hoody token>' }, challenge: 'Bearer realm="hoody-mcp"' };
}

/**
 * What this request may use, from X-Hoody-Toolsets / X-Hoody-Tools (comma lists) and
 * X-Hoody-Read-Only (1|true|yes): it narrows what the server offers, never widens it.
 */
function scopeOf(req: http.IncomingMessage): Scope | undefined {
  const list = (name: string) => {
    const v = req.headers[name];
    if (v === undefined) return undefined;
    return (Array.isArray(v) ? v.join(',') : v).split(',').map((x) => x.trim()).filter(Boolean).slice(0, 200);
  };
  const toolsets = list('x-hoody-toolsets');
  const tools = list('x-hoody-tools');
  const ro = req.headers['x-hoody-read-only'];
  if (ro !== undefined && !/^(1|true|yes|on|0|false|no|off)$/i.test(String(ro))) throw new Error('X-Hoody-Read-Only takes 1|true|yes or 0|false|no');
  const readOnly = ro !== undefined && /^(1|true|yes|on)$/i.test(String(ro));
  return toolsets || tools || readOnly ? { toolsets, tools, readOnly } : undefined;
}

/**
 * The tool a body calls when it is one `tools/call` and nothing else: the server made for this
 * request (one per request) then registers only that tool.
 */
function toolCalled(body: unknown): string | undefined {
  const msg = body as { method?: unknown; params?: { name?: unknown } } | null | undefined;
  if (!msg || typeof msg !== 'object' || Array.isArray(msg) || msg.method !== 'tools/call') return undefined;
  return typeof msg.params?.name === 'string' ? msg.params.name : undefined;
}

/** Why this replica should not get traffic now, if it should not. */
async function unready(config: Config, ops: Ops): Promise<string | undefined> {
  if (ops.draining) return 'draining';
  if (config.shared && !(await config.shared.ping().catch(() => false))) return 'shared store unreachable';
  return undefined;
}

/** /healthz, /readyz, /metrics and the drain's refusal; true when the request was answered here. */
async function serveOps(config: Config, ops: Ops, path: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
  if (path === '/healthz') return send(res, 200, { status: 'ok' }), true;
  if (path === '/readyz') {
    const why = await unready(config, ops);
    return send(res, why ? 503 : 200, why ? { status: 'unready', reason: why } : { status: 'ready' }), true;
  }
  if (path === '/metrics' && ops.metrics) {
    const text = await ops.metrics.text();
    res.writeHead(200, { 'content-type': ops.metrics.contentType });
    return res.end(text), true;
  }
  if (!ops.draining) return false;
  // While calls in flight may still finish, a request that reaches a connection opened before the
  // drain is served like them, and its answer closes the connection (the client's next request
  // opens a new one, which goes to another replica): refusing it would leave a balancer to choose
  // between a client error and re-sending a POST that may have run elsewhere.
  if (!ops.handBack.signal.aborted) return res.setHeader('connection', 'close'), false;
  // The drain's time is up: nothing runs any more; the client may send it again elsewhere.
  req.resume();
  return send(res, 503, { error: 'draining' }, { connection: 'close', 'retry-after': '1' }), true;
}

/** Count a /mcp request (or stream) as open until its response closes. */
function trackOpen(ops: Ops, res: http.ServerResponse, stream: boolean): void {
  const set = stream ? ops.streams : ops.requests;
  if (set.has(res)) return;
  if (stream) {
    ops.requests.delete(res);
    observe.gauge('streams', 1);
  }
  set.add(res);
  res.once('close', () => {
    if (set.delete(res) && stream) observe.gauge('streams', -1);
    ops.settled?.();
  });
}

/** One HTTP request: guards and the credential first, then (bounded) the body, then MCP. */
async function serveHttp(config: Config, loopback: boolean, allowed: Set<string>, principals: Tenants<Principal>, ops: Ops, note: RequestNote | undefined, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const refused = refusedOrigin(req, allowed);
  if (refused) return send(res, 403, { error: 'forbidden', message: refused });
  const path = (req.url ?? '/').split('?')[0]!;
  if (await serveOps(config, ops, path, req, res)) return;
  if (path !== '/mcp') return send(res, 404, { error: 'not_found' });
  const cred = credentialOf(req, config, loopback);
  if (!('token' in cred)) return send(res, 401, cred.body, { 'www-authenticate': cred.challenge });
  let scope: Scope | undefined;
  try {
    scope = scopeOf(req);
    if (scope) offerFor(config, scope);
  } catch (err) {
    return send(res, 400, { error: 'bad_scope', message: err instanceof Error ? err.message : String(err) });
  }
  const { token } = cred;
  const who = createHash('sha256').update(token).digest('hex');
  const tooLarge = (what: string) => {
    const message = overLimit(what, config.maxBodyBytes, '--max-body-bytes', 'HOODY_MAX_BODY_BYTES');
    send(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32600, message } });
    discard(req, 8 * config.maxBodyBytes);
  };
  if (req.method === 'POST') {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > config.maxBodyBytes) return tooLarge(`a body of ${declared} bytes`);
    // A large body is read only for a credential Hoody accepts: a made-up one costs no memory.
    if (!(declared <= UNVERIFIED_BODY) && !credentialAccepted(config, token) && !(await verifyCredential(config, token).catch(() => false))) {
      send(res, 401, { error: 'invalid_token', message: 'Hoody does not accept this token' }, { 'www-authenticate': 'Bearer realm="hoody-mcp", error="invalid_token"' });
      return discard(req, config.maxBodyBytes);
    }
  }
  const principal = principals.getOrCreate(who, () => new Principal(config, token));
  principal.active++;
  res.once('close', () => principal.active--);
  trackOpen(ops, res, req.method === 'GET');
  const serve = (parsedBody?: unknown, signal?: AbortSignal) => {
    const extra = { signal, scope, handBack: ops.handBack.signal, onlyTool: toolCalled(parsedBody) };
    (req as http.IncomingMessage & { auth?: unknown }).auth = { token, clientId: 'hoody-mcp', scopes: [], extra };
    return principal.handle(req as never, res as never, parsedBody);
  };
  if (req.method !== 'POST') return serve();
  let text: string;
  try {
    text = await readBody(req, config.maxBodyBytes);
  } catch (err) {
    if (err instanceof TooLarge) return tooLarge(err.message);
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return send(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not JSON' } });
  }
  if (note) Object.assign(note, noteOf(body, ops.tools));
  if ((body as { method?: unknown } | null)?.method === 'subscriptions/listen') trackOpen(ops, res, true);
  cancelFrom(who, body);
  principal.listenFrom(body, res);
  return serve(body, inflight.track(who, body, res));
}

export async function startHttp(config: Config): Promise<HttpServerHandle> {
  const loopback = isLoopback(config.host);
  if (!loopback && config.token) {
    throw new ConfigError(
      `refusing to bind ${config.host} while holding a Hoody token: anyone who can reach it would use your account. ` +
        'Unset HOODY_TOKEN/--token; remote clients send their own Authorization: Bearer <token>.',
    );
  }
  const allowed = new Set(['localhost', '127.0.0.1', '[::1]', ...config.allowedHosts.map((h) => h.toLowerCase())]);
  if (!loopback && config.host !== '0.0.0.0' && config.host !== '::') allowed.add(config.host.toLowerCase());

  const principals = new Tenants<Principal>({
    trial: 64,
    trusted: 1024,
    isTrusted: (p) => credentialAccepted(config, p.token),
    isBusy: (p) => p.active > 0,
    onEvict: (p) => void p.close(),
  });
  const tools = new Set(toolsFor(config).map((t) => t.name));
  const ops: Ops = { draining: false, requests: new Set(), streams: new Set(), handBack: new AbortController(), tools, metrics: await startMetrics([...tools]) };
  const server = http.createServer((req, res) => {
    const id = requestIdOf(req);
    res.setHeader('x-request-id', id);
    const note = config.logFormat === 'json' ? logRequest(req, res, id) : undefined;
    if (ops.metrics) res.once('close', () => ops.metrics?.request((req.url ?? '/').split('?')[0]!, res.statusCode));
    void serveHttp(config, loopback, allowed, principals, ops, note, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'internal_error' });
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${shownHost}:${port}/mcp`,
    port,
    close: async () => {
      // Listen streams get the protocol's graceful end (the empty listen result) and go: let them flush.
      await Promise.allSettled([...principals.values()].map((p) => p.close()));
      await settled(ops, ops.streams, HAND_BACK_MS);
      principals.clear();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
      ops.metrics?.close();
    },
    drain: (ms) => drain(server, ops, ms),
  };
}

/** Resolves when `open` (requests or streams) is empty, or after `ms`. */
function settled(ops: Ops, open: Set<http.ServerResponse>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      if (open.size) return;
      clearTimeout(timer);
      ops.settled = undefined;
      resolve();
    };
    const timer = setTimeout(() => ((ops.settled = undefined), resolve()), ms);
    ops.settled = done;
    done();
  });
}

/** End a response stream cleanly (its client reconnects, through the balancer, elsewhere). */
function endStream(res: http.ServerResponse): void {
  res.on('error', () => undefined); // the SDK may still write to it
  if (!res.headersSent) res.setHeader('connection', 'close');
  res.end();
}

async function drain(server: http.Server, ops: Ops, ms: number): Promise<void> {
  if (ops.draining) return;
  ops.draining = true;
  // New connections are refused from here (a balancer's connect fails: it tries the next replica).
  // Idle keep-alive connections stay open: a request that comes on one is served and its answer
  // closes it, where closing it now could cut a request already on its way (which a balancer must
  // not re-send if it is a POST).
  server.close();
  for (const res of ops.requests) if (!res.headersSent) res.setHeader('connection', 'close');
  // 2025-era GET streams end now; 2026-07-28 listens go on until the calls are done, then end
  // with the protocol's graceful close (in `close`): their client listens again elsewhere.
  for (const res of ops.streams) if (res.req.method === 'GET') endStream(res);
  await settled(ops, ops.requests, ms);
  if (!ops.requests.size) return;
  ops.handBack.abort(new DOMException('the server is draining', 'AbortError'));
  await settled(ops, ops.requests, HAND_BACK_MS);
}
