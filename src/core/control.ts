/**
 * The control plane (api.hoody.icu): auth, projects, containers, lifecycle, snapshots, rentals, claims.
 * Envelope {statusCode, message, data}; errors {statusCode, error, message, data?} (seed-api.md §6.1).
 */
import { randomBytes } from 'node:crypto';
import { HoodyError, isAmbiguous, normalizeError } from './errors.js';
import { parseRetryAfter, request, withQuery } from './http.js';
import { hexId, safePath, urlPath } from './paths.js';
import { poll } from './streams.js';

export interface Project {
  id: string;
  alias: string;
  color?: string;
  created_at?: string;
}

export interface Container {
  id: string;
  project_id: string;
  name: string;
  status: string;
  server_id?: string;
  server_name: string;
  subserver_name?: string;
  project_alias?: string;
  dev_kit?: boolean;
  hoody_kit?: boolean;
  container_image?: string | null;
  created_at?: string;
  snapshot_count?: number;
  [k: string]: unknown;
}

export interface Rental {
  id: string;
  server_id: string;
  status: string;
  server?: { id: string; name?: string };
}

export interface Snapshot {
  name: string;
  alias?: string | null;
  created_at?: string;
  size?: number;
  [k: string]: unknown;
}

export interface ContainerClaim {
  kid: string;
  payload_b64: string;
  signature_hex: string;
}

export type LifecycleOp = 'start' | 'stop' | 'restart' | 'pause' | 'resume' | 'force-stop';

const ID = /^[0-9a-f]{24}$/;
export const isId = (s: string) => ID.test(s);
const projectId = (p: string) => hexId(p, 'project', { code: 'list_projects' });
const containerId = (c: string) => hexId(c, 'container id', { code: 'list_containers' });

export interface ControlOptions {
  apiUrl: string;
  token: string;
  realm?: string;
}

/** `https://api.hoody.icu` + realm → `https://{realm}.api.hoody.icu` (seed-api.md §1.8). */
export function realmBase(apiUrl: string, realm?: string): URL {
  const u = new URL(apiUrl);
  if (realm) u.hostname = `${realm}.${u.hostname}`;
  u.pathname = '/';
  u.search = '';
  return u;
}

export class ControlPlane {
  readonly base: URL;
  readonly #token: string;
  /** The control plane has accepted this token (any answer that is not an error). */
  accepted = false;

  constructor(opts: ControlOptions) {
    this.base = realmBase(opts.apiUrl, opts.realm);
    this.#token = opts.token;
  }

  /** The credential the agent kit wants beside a claim (X-Hoody-Token). Never logged. */
  get token(): string {
    return this.#token;
  }

  async call<T>(
    method: string,
    path: string,
    opts: {
      query?: Record<string, unknown>;
      body?: unknown;
      idempotent?: boolean;
      verifyNotStarted?: () => Promise<boolean>;
      signal?: AbortSignal;
      timeoutMs?: number;
      deadlineMs?: number;
    } = {},
  ): Promise<T> {
    const url = withQuery(new URL(safePath(`/api/v1${path}`), this.base), opts.query);
    const res = await request({
      method,
      url,
      source: 'api',
      headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json' },
      body: opts.body,
      idempotent: opts.idempotent,
      verifyNotStarted: opts.verifyNotStarted,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs ?? 30_000,
      deadlineMs: opts.deadlineMs,
    });
    const text = await res.body.text();
    if (res.status < 400) this.accepted = true;
    if (res.status >= 400) {
      const err = normalizeError(res.status, text, 'api', parseRetryAfter(res.headers['retry-after']));
      if (res.status === 401) err.hint = 'the Hoody token was refused: check HOODY_TOKEN (an hdy_… token or a login JWT)';
      throw err;
    }
    if (!text.trim()) return undefined as T;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HoodyError({ kind: 'server', status: res.status, source: 'api', message: 'the Hoody API answered with a body that is not JSON' });
    }
    // Tolerate both the enveloped and a bare body.
    if (body && typeof body === 'object' && 'statusCode' in body) return (body as { data?: T }).data as T;
    return body as T;
  }

  /** Page through a page-based list (`data:{<key>:[…], pagination}`), limit ≤ 100 (seed-api.md §6.3). */
  async listAll<T>(path: string, key: string, query: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page <= 50; page++) {
      const data = await this.call<Record<string, unknown> | T[]>('GET', path, { query: { ...query, page, limit: 100 }, signal });
      if (Array.isArray(data)) return data;
      const items = (data?.[key] as T[] | undefined) ?? [];
      out.push(...items);
      const p = data?.pagination as { totalPages?: number; total?: number } | undefined;
      if (!p || items.length === 0 || page >= (p.totalPages ?? 1)) break;
    }
    return out;
  }

  /** Whether the control plane accepts this token (asked once: one small read). */
  async verify(signal?: AbortSignal): Promise<boolean> {
    if (this.accepted) return true;
    try {
      await this.call('GET', '/projects/', { query: { page: 1, limit: 1 }, signal, deadlineMs: 10_000 });
      return true;
    } catch (err) {
      if (err instanceof HoodyError && (err.kind === 'auth' || err.kind === 'forbidden')) return false;
      throw err;
    }
  }

  listProjects(signal?: AbortSignal): Promise<Project[]> {
    return this.listAll<Project>('/projects/', 'projects', {}, signal);
  }

  listContainers(opts: { project?: string; includeDeleting?: boolean; signal?: AbortSignal } = {}): Promise<Container[]> {
    const path = opts.project ? urlPath`/projects/${projectId(opts.project)}/containers` : '/containers/';
    return this.listAll<Container>(path, 'containers', { include_deleting: opts.includeDeleting || undefined }, opts.signal);
  }

  getContainer(id: string, signal?: AbortSignal): Promise<Container> {
    return this.call<Container>('GET', urlPath`/containers/${containerId(id)}`, { signal });
  }

  /**
   * Create a container. It always carries a name (a random one if none is given: the server would
   * pick one anyway), so a lost answer can be checked — re-sent only if no container of that name
   * exists in the project — instead of creating a second container blindly.
   */
  async createContainer(project: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Container> {
    const name = typeof body.name === 'string' && body.name ? body.name : `hoody-${randomBytes(4).toString('hex')}`;
    const existing = async () => (await this.listContainers({ project, includeDeleting: true, signal })).find((c) => c.name === name);
    try {
      return await this.call<Container>('POST', urlPath`/projects/${projectId(project)}/containers`, {
        body: { ...body, name },
        signal,
        idempotent: false,
        verifyNotStarted: async () => !(await existing()),
        timeoutMs: 60_000,
      });
    } catch (err) {
      // The answer was lost but the container may exist: then that is the result.
      if (err instanceof HoodyError && isAmbiguous(err)) {
        const c = await existing().catch(() => undefined);
        if (c) return c;
      }
      throw err;
    }
  }

  /**
   * POST /containers/{id}/{op}, no body. A state conflict is a 400 carrying `data.status`
   * (seed-api.md §3.7); "already in the target state" is success, so it is returned, not thrown.
   */
  async lifecycle(id: string, op: LifecycleOp, signal?: AbortSignal): Promise<{ status?: string; message?: string; conflict?: boolean }> {
    try {
      const data = await this.call<{ status?: string; message?: string }>('POST', urlPath`/containers/${containerId(id)}/${op}`, {
        signal,
        // Repeating start/stop/pause/resume/force-stop ends in the same state (a repeat answers the
        // 400 "already …", read as success below); a repeated restart would restart twice.
        idempotent: op !== 'restart',
        // Hoody answers a lifecycle call when the action is done: it may take minutes.
        timeoutMs: 120_000,
        deadlineMs: 150_000,
      });
      return data ?? {};
    } catch (err) {
      if (err instanceof HoodyError && err.status === 400 && err.data && typeof err.data === 'object') {
        const d = err.data as { status?: string; message?: string };
        if (typeof d.status === 'string') return { status: d.status, message: d.message ?? err.message, conflict: true };
      }
      throw err;
    }
  }

  deleteContainer(id: string, signal?: AbortSignal): Promise<void> {
    return this.call<void>('DELETE', urlPath`/containers/${containerId(id)}`, { signal, idempotent: false });
  }

  async listSnapshots(id: string, signal?: AbortSignal): Promise<Snapshot[]> {
    const data = await this.call<{ snapshots?: Snapshot[] } | Snapshot[]>('GET', urlPath`/containers/${containerId(id)}/snapshots`, { signal });
    return Array.isArray(data) ? data : (data?.snapshots ?? []);
  }

  async createSnapshot(id: string, alias: string | undefined, signal?: AbortSignal): Promise<Snapshot> {
    const data = await this.call<{ snapshot?: Snapshot }>('POST', urlPath`/containers/${containerId(id)}/snapshots`, {
      body: alias ? { alias } : {},
      signal,
      idempotent: false,
      timeoutMs: 300_000,
      deadlineMs: 300_000,
    });
    return (data?.snapshot ?? data) as Snapshot;
  }

  restoreSnapshot(id: string, name: string, signal?: AbortSignal): Promise<unknown> {
    return this.call('PUT', urlPath`/containers/${containerId(id)}/snapshots/${name}`, { signal, idempotent: false, timeoutMs: 300_000, deadlineMs: 300_000 });
  }

  listRentals(signal?: AbortSignal): Promise<Rental[]> {
    return this.call<Rental[]>('GET', '/rentals', { signal }).then((r) => (Array.isArray(r) ? r : []));
  }

  authorize(id: string, signal?: AbortSignal): Promise<{ container_claim: ContainerClaim; expires_in: number }> {
    return this.call('POST', urlPath`/containers/${containerId(id)}/authorize`, { signal, idempotent: true });
  }

  /**
   * Poll GET /containers/{id} until `status` is one of `want` (seed-api.md §3.8: no status stream;
   * poll every ~1–2 s). Calls onTick with each observed status so callers can report progress.
   */
  async waitForStatus(
    id: string,
    want: string[],
    opts: { deadline: number; signal?: AbortSignal; onTick?: (c: Container) => void | Promise<void>; intervalMs?: number },
  ): Promise<Container> {
    let c: Container | undefined;
    const states = poll({ read: (s) => this.getContainer(id, s), interval: () => opts.intervalMs ?? 1000, until: opts.deadline, signal: opts.signal, source: 'api' });
    for await (c of states) {
      await opts.onTick?.(c);
      if (want.includes(c.status)) return c;
      if (c.status === 'failed') {
        throw new HoodyError({ kind: 'server', source: 'api', message: `container ${c.name} failed to reach ${want.join('/')}` });
      }
    }
    return c!;
  }
}
