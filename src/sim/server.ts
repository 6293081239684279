/**
 * The one `node:http` server. It routes by Host header exactly like Hoody's proxy:
 *
 * - `api.localhost[:port]`, `{realmId}.api.localhost[:port]` → control plane (bare `localhost` and
 *   `127.0.0.1` too, for convenience);
 * - `{projectId}-{containerId}-{slug}-{n}.{server_name}.containers.localhost[:port]` → kit `slug`.
 *
 * Proxy behaviour (HTML pages, never JSON): unknown container or project/container mismatch → 404;
 * container not running, still warming up, deleting, or `server_name` not the container's (a
 * mis-route) → 502; slug without a kit → 502 (kit not installed) [S:424], [S:6890], [S:10652].
 */
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { handleApi } from './api/index.js';
import { sendApiError, ApiError } from './api/context.js';
import type { FaultRegistry } from './faults.js';
import type { KitContext, KitRuntime } from './kits/types.js';
import type { SimCore } from './state.js';
import type { FaultSpec } from './types.js';
import { reason, sendEmpty, sendJson, sendProxyError } from './util.js';

type HostRoute =
  | { kind: 'api'; realm?: string }
  | { kind: 'kit'; projectId: string; containerId: string; slug: string; instance: number; serverName: string }
  | { kind: 'unknown' };

const KIT_HOST = /^([0-9a-f]{24})-([0-9a-f]{24})-([a-z0-9_-]+?)-(\d+)\.([a-z0-9_-]+)\.containers\.localhost$/;
const REALM_HOST = /^([0-9a-f]{24})\.api\.localhost$/;

export function parseHost(hostHeader: string | undefined): HostRoute {
  const host = (hostHeader ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (host === 'api.localhost' || host === 'localhost' || host === '127.0.0.1') return { kind: 'api' };
  const realm = REALM_HOST.exec(host);
  if (realm) return { kind: 'api', realm: realm[1] as string };
  const kit = KIT_HOST.exec(host);
  if (kit) {
    return { kind: 'kit', projectId: kit[1] as string, containerId: kit[2] as string, slug: kit[3] as string, instance: Number(kit[4]), serverName: kit[5] as string };
  }
  return { kind: 'unknown' };
}

/** Exact slug, else a `family-*` entry (e.g. a future `http-*` for `http-<port>`). */
function findKit(core: SimCore, slug: string): KitRuntime | undefined {
  const exact = core.kits.get(slug);
  if (exact) return exact;
  for (const [key, kit] of core.kits) if (key.endsWith('-*') && slug.startsWith(key.slice(0, -1))) return kit;
  return undefined;
}

function splitUrl(url: string | undefined): { path: string; query: URLSearchParams; search: string } {
  // Not `new URL(req.url, base)`: a path like `//etc/x` would be read as a host name.
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const search = q < 0 ? '' : raw.slice(q + 1);
  return { path: path || '/', query: new URLSearchParams(search), search };
}

async function answerFault(core: SimCore, res: ServerResponse, req: IncomingMessage, spec: FaultSpec, target: string): Promise<void> {
  if (spec.delayMs) await core.wait(spec.delayMs);
  if (spec.reset === 'mid-body' || spec.body === 'malformed') {
    // Headers promise a whole JSON body; part of it comes, then the connection drops (or the body just ends).
    const part = '{"id":"7f3a","status":"runn';
    res.writeHead(spec.status, { 'Content-Type': 'application/json', ...(spec.reset ? { 'Content-Length': '4096' } : {}) });
    if (!spec.reset) return void res.end(part);
    res.write(part);
    await new Promise((r) => setImmediate(r));
    req.socket.destroy();
    return;
  }
  if (spec.reset) {
    req.socket.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (spec.retryAfter !== undefined) headers['Retry-After'] = String(spec.retryAfter);
  const kind = spec.body ?? ([502, 503, 504].includes(spec.status) ? 'html' : spec.status === 429 ? 'empty' : 'json');
  if (kind === 'html') sendProxyError(res, spec.status, headers);
  else if (kind === 'empty') sendEmpty(res, spec.status, headers);
  else if (target === 'api') sendApiError(res, new ApiError(spec.status, `Injected fault ${spec.status}`), headers);
  else {
    // Each kit's own error envelope; the terminal-style one for a slug without a kit.
    const body = findKit(core, target)?.errorBody(spec.status, `Injected fault ${spec.status}`);
    sendJson(res, spec.status, body ?? { statusCode: spec.status, error: reason(spec.status), message: `Injected fault ${spec.status}` }, headers);
  }
}

/** Which auth token a request presented (for tests to tell callers apart in the log). */
function presentedToken(core: SimCore, req: IncomingMessage): string | undefined {
  const raw = req.headers['x-hoody-token'] ?? /^Bearer (hdy_\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  return typeof raw === 'string' ? core.findTokenBySecret(raw)?.id : undefined;
}

export function createSimServer(core: SimCore, faults: FaultRegistry): Server {
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const { path, query, search } = splitUrl(req.url);
    const route = parseHost(req.headers.host);
    const target = route.kind === 'api' ? 'api' : route.kind === 'kit' ? route.slug : 'unknown';
    const credential = req.headers.authorization !== undefined || req.headers['x-hoody-token'] !== undefined;
    const entry = { at: Date.now(), method, host: target, containerId: route.kind === 'kit' ? route.containerId : undefined, path, query: search, status: 0, credential, tokenId: presentedToken(core, req) };
    let logged = false;
    const log = (): void => {
      if (logged) return;
      logged = true;
      entry.status = res.headersSent ? res.statusCode : 0;
      core.requests.push(entry);
      // Bounded for long `--sim` sessions; the array is shared with the Sim object, so trim in place.
      if (core.requests.length > 20_000) core.requests.splice(0, 5_000);
    };
    res.on('finish', log);
    res.on('close', log);

    if (route.kind === 'unknown') return sendProxyError(res, 404);

    const serve = async (out: ServerResponse): Promise<void> => {
      if (route.kind === 'api') return handleApi(core, req, out, route.realm, path, query);
      const c = core.containers.get(route.containerId);
      if (!c || c.project_id !== route.projectId) return sendProxyError(out, 404);
      if (c.server_name !== route.serverName) return sendProxyError(out, 502);
      if (!core.kitsReady(c)) return sendProxyError(out, 502);
      const kit = findKit(core, route.slug);
      if (!kit) return sendProxyError(out, 502);
      const ctx: KitContext = { container: c, req, res: out, method, path, query, slug: route.slug, instance: route.instance };
      await kit.handle(ctx);
    };

    const fault = faults.take(target, method, path);
    if (!fault) return serve(res);
    // afterHandler: the work is done, then the answer is lost (proxy timeout, dropped connection):
    // the handler writes into a detached response and the caller gets the fault instead.
    if (fault.afterHandler) await serve(new ServerResponse(req));
    return answerFault(core, res, req, fault, target);
  };

  const server = createServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) sendProxyError(res, 502);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 2000;
  return server;
}
