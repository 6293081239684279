/**
 * Container → kit URL resolution (seed-api.md §5).
 *
 *   https://{project_id}-{id}-{slug}-{n}.{server_name}.containers.{domain}
 *
 * `server_name`, never `subserver_name` [S:423]; the containers domain derives from the API URL
 * [S:93] (`api.hoody.icu` → `containers.hoody.icu`, `api.localhost:8080` → `containers.localhost:8080`).
 * Kit URLs are capabilities: they never leave this module except through `urlFor` (for a person to open).
 */
import { Readable } from 'node:stream';
import { CLAIM_CODES, CLAIM_KITS, Claims } from './claims.js';
import { HoodyError, normalizeError } from './errors.js';
import type { Container, ControlPlane } from './control.js';
import { header, request, withQuery, type HttpResponse, type RequestOptions } from './http.js';
import { hexId, safePath } from './paths.js';

/** Kits whose host slug carries an instance number (`files-1`); `ssh` carries none; `http-<port>` is its own. */
const UNINDEXED = new Set(['ssh']);

/**
 * Normalise a kit reference to its host slug: `files` → `files-1`, `display-2` stays,
 * `http-8080` stays, `ssh` stays, `proxyLogs` → `logs-1`, `app` → `run-1`, `notifications` → `n-1`.
 */
export function kitSlug(kit: string): string {
  const k = kit.trim();
  if (!/^[a-z][a-zA-Z0-9-]*$/.test(k)) throw new HoodyError({ kind: 'bad_request', source: 'kit', message: `"${kit}" is not a kit name` });
  const alias: Record<string, string> = { proxyLogs: 'logs', app: 'run', notifications: 'n' };
  if (/^https?-\d{1,5}$/.test(k)) return k;
  if (/^(https?)$/.test(k)) return `${k}-${k === 'http' ? 80 : 443}`;
  if (/-\d+$/.test(k)) return k;
  const base = alias[k] ?? k;
  return UNINDEXED.has(base) ? base : `${base}-1`;
}

export function containersDomain(apiUrl: string): { protocol: string; domain: string; port: string } {
  const u = new URL(apiUrl);
  const i = u.hostname.indexOf('api.');
  if (i !== 0 && !u.hostname.includes('.api.')) {
    throw new HoodyError({
      kind: 'bad_request',
      source: 'config',
      message: `cannot derive the containers domain from API host "${u.hostname}": it must be api.<domain>`,
    });
  }
  const domain = u.hostname.slice(u.hostname.indexOf('api.') + 4);
  return { protocol: u.protocol, domain: `containers.${domain}`, port: u.port };
}

interface CacheEntry {
  container: Container;
  at: number;
  /** Kit base URLs (href) built from this container, by kit: built once, dropped with the entry. */
  urls?: Map<string, string>;
}

export class KitResolver {
  readonly #control: ControlPlane;
  readonly #domain: { protocol: string; domain: string; port: string };
  readonly #cache = new Map<string, CacheEntry>();
  readonly ttlMs: number;

  constructor(control: ControlPlane, apiUrl: string, ttlMs = 5 * 60_000) {
    this.#control = control;
    this.#domain = containersDomain(apiUrl);
    this.ttlMs = ttlMs;
  }

  async container(id: string, signal?: AbortSignal): Promise<Container> {
    const hit = this.#cache.get(id);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.container;
    const c = await this.#control.getContainer(id, signal);
    this.remember(c);
    return c;
  }

  remember(c: Container): void {
    this.#cache.set(c.id, { container: c, at: Date.now() });
  }

  invalidate(id: string): void {
    this.#cache.delete(id);
  }

  /**
   * The base URL (href, ending in `/`) of one kit of a container: built and checked once per
   * cached container (urlFor's checks and URL parse cost ~10 µs, on every request before).
   */
  async baseHref(containerId: string, kit: string, signal?: AbortSignal): Promise<string> {
    const hit = this.#cache.get(containerId);
    const entry = hit && Date.now() - hit.at < this.ttlMs ? hit : (await this.container(containerId, signal), this.#cache.get(containerId));
    if (!entry) return this.urlFor(await this.container(containerId, signal), kit).href;
    let href = entry.urls?.get(kit);
    if (href === undefined) {
      href = this.urlFor(entry.container, kit).href;
      (entry.urls ??= new Map()).set(kit, href);
    }
    return href;
  }

  urlFor(c: Container, kit: string): URL {
    const projectId = c.project_id ?? (c.projectId as string | undefined);
    if (!projectId || !c.server_name) {
      throw new HoodyError({ kind: 'server', source: 'api', message: `container ${c.id} has no project_id/server_name to build kit URLs from` });
    }
    // Every part of the host comes from the control plane: checked, so an odd answer cannot point a kit request elsewhere.
    hexId(projectId, 'project id');
    hexId(c.id, 'container id');
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(c.server_name)) {
      throw new HoodyError({ kind: 'server', source: 'api', message: `container ${c.id} has a server_name that is not a host label` });
    }
    const { protocol, domain, port } = this.#domain;
    return new URL(`${protocol}//${projectId}-${c.id}-${kitSlug(kit)}.${c.server_name}.${domain}${port ? `:${port}` : ''}/`);
  }
}

export interface KitRequest extends Omit<RequestOptions, 'url' | 'source'> {
  path: string;
  query?: Record<string, unknown>;
}

/**
 * Requests to one container's kits. A 404 or 502 from a kit may mean the container moved or
 * stopped, so it drops the cached URL; when retries could not get past the proxy's 502, it asks
 * the control plane why and says what to do.
 */
export class Kits {
  readonly claims: Claims;

  constructor(
    readonly resolver: KitResolver,
    readonly control: ControlPlane,
  ) {
    this.claims = new Claims(control);
  }

  async request(containerId: string, kit: string, req: KitRequest): Promise<HttpResponse> {
    const source = kit.replace(/-\d+$/, '');
    const claimed = CLAIM_KITS.has(source);
    for (let attempt = 0; ; attempt++) {
      // safePath refuses `?`, `#` and dot segments: the path appends to the base as it would resolve against it.
      const base = await this.resolver.baseHref(containerId, kit, req.signal);
      const url = withQuery(new URL(base + safePath(req.path).slice(1)), req.query);
      const headers = claimed ? { ...req.headers, ...(await this.claims.headers(containerId, req.signal)) } : req.headers;
      const res = await request({ ...req, headers, url, source, label: `the ${source} kit of container ${containerId}` });
      // The proxy's own 404/502 pages (HTML) mean the URL may be stale; a kit's JSON 404 is an answer.
      const fromProxy = (header(res, 'content-type') ?? '').includes('text/html');
      if (res.status === 502 || res.status === 503 || (res.status === 404 && fromProxy)) this.resolver.invalidate(containerId);
      if (res.status === 502 || res.status === 503) {
        const notRunning = await this.explainUnavailable(containerId, req.signal);
        if (notRunning) {
          await res.body.dump().catch(() => undefined);
          throw notRunning;
        }
      }
      if (claimed && (res.status === 401 || res.status === 403)) {
        // A refused claim is re-minted once and the call repeated (the kit did nothing) [S:931].
        const err = normalizeError(res.status, await res.body.text().catch(() => ''), source);
        if (attempt === 0 && err.code && CLAIM_CODES.has(err.code) && !(req.body instanceof Readable)) {
          this.claims.invalidate(containerId);
          continue;
        }
        throw err;
      }
      return res;
    }
  }

  /** If the container is not running, an error that says so and what to do; otherwise undefined. */
  async explainUnavailable(containerId: string, signal?: AbortSignal): Promise<HoodyError | undefined> {
    const c = await this.control.getContainer(containerId, signal).catch(() => undefined);
    if (!c || c.status === 'running') return undefined;
    this.resolver.remember(c);
    const action = c.status === 'paused' ? 'resume' : 'start';
    const transitional = ['creating', 'copying', 'starting', 'stopping', 'restoring'].includes(c.status);
    return new HoodyError({
      kind: 'not_running',
      source: 'api',
      message: `container ${c.name} is ${c.status}`,
      next: transitional ? { code: 'wait_container' } : { code: 'start_container', action },
    });
  }
}
