/**
 * User services: `{P}-{C}-http-<port>.{server}.containers.<domain>` reaches whatever listens on
 * `localhost:<port>` in the container [S:344-368]; `https-<port>` speaks TLS to it. The host router
 * reads the label as slug `http`/`https` with the port as its instance. Nothing listening → the
 * proxy's HTML 502, as on Hoody.
 *
 * Simulator limit: sandboxed commands share the machine's network, so container ports are the
 * machine's ports (two containers cannot both listen on one port). The simulator's own port is
 * never proxied (it would loop). WebSocket upgrades are not proxied.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SimCore } from '../../state.js';
import { sendProxyError } from '../../util.js';
import type { KitContext, KitRuntime } from '../types.js';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function forwardHeaders(h: IncomingHttpHeaders, port: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  out.host = `localhost:${port}`;
  return out;
}

export function createPortProxy(core: SimCore, scheme: 'http' | 'https'): KitRuntime {
  return {
    slug: scheme,
    errorBody: (status, message) => ({ statusCode: status, error: message }),
    handle(ctx: KitContext): Promise<void> {
      const port = ctx.instance;
      if (!(port >= 1 && port <= 65_535) || port === core.port) {
        sendProxyError(ctx.res, 502);
        return Promise.resolve();
      }
      const raw = ctx.req.url ?? '/';
      const send = scheme === 'https' ? httpsRequest : httpRequest;
      return new Promise<void>((resolve) => {
        const upstream = send(
          { host: '127.0.0.1', port, method: ctx.method, path: raw.startsWith('/') ? raw : `/${raw}`, headers: forwardHeaders(ctx.req.headers, port), rejectUnauthorized: false, timeout: 60_000 },
          (up) => {
            const headers = Object.fromEntries(Object.entries(up.headers).filter(([k]) => !HOP.has(k)));
            ctx.res.writeHead(up.statusCode ?? 502, headers as Record<string, string | string[]>);
            up.pipe(ctx.res);
            up.on('end', resolve);
            up.on('error', () => (ctx.res.destroy(), resolve()));
          },
        );
        upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
        upstream.on('error', () => {
          if (!ctx.res.headersSent) sendProxyError(ctx.res, 502);
          else ctx.res.destroy();
          resolve();
        });
        ctx.req.pipe(upstream);
      });
    },
  };
}
