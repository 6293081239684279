/**
 * Streamable HTTP at /mcp (both protocol eras via the SDK's createMcpHandler), with
 * - a DNS-rebinding guard: Host and Origin must name this server (403 otherwise);
 * - per-request credentials: `Authorization: Bearer <Hoody token>` is used for that request only.
 *   Without one: the server's own token serves loopback clients; anyone else gets 401.
 * - GET /healthz → 200; anything else → 404.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { Config } from '../config.js';
import { createServer } from '../server.js';
import { ConfigError } from '../mcp/registry.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith('127.');

function hostname(hostHeader: string): string {
  // "[::1]:8765" → "[::1]", "localhost:8765" → "localhost"
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
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

  const mcp = createMcpHandler(
    (ctx) => createServer(config, { token: ctx.authInfo?.token }, { remote: true }),
    { maxRequestBodySize: 48 * 1024 * 1024, onerror: () => undefined },
  );
  const handle = toNodeHandler(mcp, { maxRequestBodySize: 48 * 1024 * 1024 });

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
    let token: string | undefined;
    if (auth) {
      const m = /^Bearer (\S+)$/.exec(auth);
      if (!m) return send(401, JSON.stringify({ error: 'invalid_token', message: 'use Authorization: Bearer <Hoody token>' }), { 'www-authenticate': 'Bearer realm="hoody-mcp", error="invalid_token"' });
      token = m[1];
    } else if (loopback && config.token) {
      token = config.token;
    } else {
      return send(401, JSON.stringify({ error: 'unauthorized', message: 'send Authorization: Bearer <Hoody token>' }), { 'www-authenticate': 'Bearer realm="hoody-mcp"' });
    }
    (req as http.IncomingMessage & { auth?: unknown }).auth = { token, clientId: 'hoody-mcp', scopes: [] };
    handle(req as never, res as never).catch(() => {
      if (!res.headersSent) send(500, JSON.stringify({ error: 'internal_error' }));
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
      await mcp.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
