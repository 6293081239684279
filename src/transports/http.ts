/**
 * Streamable HTTP at /mcp (both protocol eras via the SDK's createMcpHandler), with
 * - a DNS-rebinding guard: Host and Origin must name this server (403 otherwise);
 * - per-request credentials: `Authorization: Bearer <Hoody token>` is used for that request only.
 *   Without one: the server's own token serves loopback clients; anyone else gets 401.
 * - one MCP handler per credential (subscriptions stay with their owner);
 * - cancellation that reaches the request it names, also on stateless 2025-era serving;
 * - GET /healthz → 200; anything else → 404.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { Config } from '../config.js';
import { createServer, subscriptionsFor } from '../server.js';
import type { Subscriptions } from '../mcp/subscriptions.js';
import { ConfigError } from '../mcp/registry.js';
import { Lru } from '../core/lru.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith('127.');

function hostname(hostHeader: string): string {
  // "[::1]:8765" → "[::1]", "localhost:8765" → "localhost"
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
}

const MAX_BODY = 48 * 1024 * 1024;

function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error(`request body over ${max} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
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
 * One MCP handler per credential (the 256 most recently used; an evicted one is closed). Its
 * 2026-07-28 `subscriptions/listen` bus then reaches only that credential's listeners (a shared
 * bus would tell one tenant about another's files), and the URIs a listen asks for are watched
 * for as long as its response stream stays open.
 */
class Principal {
  readonly #mcp: McpHttpHandler;
  readonly #subs: Subscriptions;
  readonly handle: ReturnType<typeof toNodeHandler>;

  constructor(config: Config, token: string) {
    this.#subs = subscriptionsFor(config, { token }, (uri) => this.#mcp.notify.resourceUpdated(uri));
    this.#mcp = createMcpHandler(
      (ctx) =>
        createServer(config, { token: ctx.authInfo?.token }, {
          remote: true,
          signal: (ctx.authInfo?.extra as { signal?: AbortSignal } | undefined)?.signal,
          // Only a 2026-07-28 listen stream can carry updates; a stateless 2025 request cannot.
          subscriptions: ctx.era === 'modern' ? this.#subs : undefined,
        }),
      { maxRequestBodySize: MAX_BODY, onerror: () => undefined },
    );
    this.handle = toNodeHandler(this.#mcp, { maxRequestBodySize: MAX_BODY });
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

  const principals = new Lru<Principal>(256, (p) => void p.close());
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    const host = hostname((req.headers.host ?? '').toLowerCase());
    if (!allowed.has(host)) return send(403, JSON.stringify({ error: 'forbidden', message: `Host "${host}" is not allowed` }));
    const origin = req.headers.origin;
    if (origin) {
      let ok = false;
      try {
        ok = allowed.has(new URL(origin).hostname.toLowerCase()) || allowed.has(`[${new URL(origin).hostname}]`);
      } catch {
        ok = false;
      }
      if (!ok) return send(403, JSON.stringify({ error: 'forbidden', message: 'Origin not allowed' }));
    }
    if (path === '/healthz') return send(200, JSON.stringify({ status: 'ok' }));
    if (path !== '/mcp') return send(404, JSON.stringify({ error: 'not_found' }));

    const auth = req.headers.authorization;
    let token: string;
    if (auth) {
      const m = /^Bearer (\S+)$/.exec(auth);
      if (!m) return send(401, JSON.stringify({ error: 'invalid_token', message: 'use Authorization: Bearer <Hoody token>' }), { 'www-authenticate': 'Bearer realm="hoody-mcp", error="invalid_token"' });
      token = m[1];
    } else if (loopback && config.token) {
      token = config.token;
    } else {
      return send(401, JSON.stringify({ error: 'unauthorized', message: 'send Authorization: Bearer <Hoody token>' }), { 'www-authenticate': 'Bearer realm="hoody-mcp"' });
    }
    const who = createHash('sha256').update(token).digest('hex');
    const principal = principals.getOrCreate(who, () => new Principal(config, token));
    const serve = (parsedBody?: unknown, signal?: AbortSignal) => {
      (req as http.IncomingMessage & { auth?: unknown }).auth = { token, clientId: 'hoody-mcp', scopes: [], extra: { signal } };
      principal.handle(req as never, res as never, parsedBody).catch(() => {
        if (!res.headersSent) send(500, JSON.stringify({ error: 'internal_error' }));
        else res.end();
      });
    };
    if (req.method !== 'POST') return serve();
    readBody(req, MAX_BODY).then(
      (text) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return send(400, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not JSON' } }));
        }
        cancelFrom(who, body);
        principal.listenFrom(body, res);
        const signal = inflight.track(who, body, res);
        serve(body, signal);
      },
      (err: Error) => send(413, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: err.message } })),
    );
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
      await Promise.allSettled([...principals.values()].map((p) => p.close()));
      principals.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
