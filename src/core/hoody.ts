/**
 * Hoody: one principal's view of the platform — control plane, kit clients, jobs — behind one
 * object. Instances are cached per credential so caches (kit URLs, finished jobs) survive across
 * the per-request servers of the HTTP transport, and two credentials never share anything.
 */
import { createHash } from 'node:crypto';
import { FileEdits } from './file-edits.js';
import { ControlPlane, isId, type Container, type LifecycleOp } from './control.js';
import { HoodyError } from './errors.js';
import { request } from './http.js';
import { poll } from './streams.js';
import { Jobs } from './jobs.js';
import { Displays } from './displays.js';
import { DisplayKit } from './kits/display.js';
import { BrowserKit } from './kits/browser.js';
import { AgentKit, AgentTurns } from './kits/agent.js';
import { DaemonKit } from './kits/daemon.js';
import { Lru, Tenants } from './lru.js';
import { FilesKit } from './kits/files.js';
import { SqliteKit } from './kits/sqlite.js';
import { Ports } from './ports.js';
import { Raw } from './raw.js';
import { TerminalKit } from './kits/terminal.js';
import { WatchKit } from './kits/watch.js';
import { Watches } from './watches.js';
import { containersDomain, KitResolver, Kits } from './kits.js';
import { Secrets } from './secrets.js';
import { credentialSpace, type Shared } from './shared.js';

export interface HoodyConfig {
  apiUrl: string;
  realm?: string;
  /** Used when a tool's `container` argument is omitted. */
  defaultContainer?: string;
  /** State shared with the other replicas (--redis); absent: everything stays in process. */
  shared?: Shared;
}

export interface CreateContainerOptions {
  /** Project id; default: the only project. */
  project?: string;
  /** Server id; default: the first active server rental. */
  serverId?: string;
  name?: string;
  devKit?: boolean;
}

/**
 * One principal's view of Hoody. Kit clients and services are made on first use: a server that
 * only lists containers never builds a terminal client.
 */
export class Hoody {
  readonly control: ControlPlane;
  readonly resolver: KitResolver;
  readonly config: HoodyConfig;
  /** What results and errors of this principal must not show (the shell scrubs with it). */
  readonly secrets: Secrets;
  /** This credential's part of the store shared with the other replicas, when there is one. */
  readonly shared?: Shared;
  readonly #names = new Lru<{ id: string; at: number }>(500);
  #kits?: Kits;
  #terminal?: TerminalKit;
  #files?: FilesKit;
  #edits?: FileEdits;
  #jobs?: Jobs;
  #watch?: WatchKit;
  #watches?: Watches;
  #displays?: Displays;
  #browser?: BrowserKit;
  #agent?: AgentTurns;
  #daemon?: DaemonKit;
  #sqlite?: SqliteKit;
  #ports?: Ports;
  #raw?: Raw;

  constructor(config: HoodyConfig, token: string) {
    this.config = config;
    this.control = new ControlPlane({ apiUrl: config.apiUrl, token, realm: config.realm });
    this.resolver = new KitResolver(this.control, this.control.base.href);
    let domain: string | undefined;
    try {
      domain = containersDomain(this.control.base.href).domain;
    } catch {
      /* no kit URLs can be built either: nothing of theirs to hide */
    }
    this.secrets = new Secrets(domain);
    this.secrets.add(token);
    this.shared = config.shared?.scope(credentialSpace(config.apiUrl, config.realm, token));
  }

  get kits(): Kits {
    if (!this.#kits) {
      this.#kits = new Kits(this.resolver, this.control);
      this.#kits.claims.onMint = (c) => [c.payload_b64, c.signature_hex, JSON.stringify(c)].forEach((v) => this.secrets.add(v));
      this.#kits.claims.shared = this.shared;
    }
    return this.#kits;
  }
  get terminal(): TerminalKit {
    return (this.#terminal ??= new TerminalKit(this.kits));
  }
  get files(): FilesKit {
    return (this.#files ??= new FilesKit(this.kits));
  }
  /** Edits that refuse stale, missing or ambiguous changes (remembers what was last read here). */
  get edits(): FileEdits {
    return (this.#edits ??= new FileEdits(this.files, new Lru(2000)));
  }
  get jobs(): Jobs {
    return (this.#jobs ??= new Jobs(this.terminal, this.shared));
  }
  get watch(): WatchKit {
    return (this.#watch ??= new WatchKit(this.kits));
  }
  /** Watchers this principal made, by container + paths, so a repeat watch reuses one. */
  get watches(): Watches {
    return (this.#watches ??= new Watches(this.watch, new Lru(100), this.shared));
  }
  /** Release this view's leases in the shared store (a stopping replica). */
  async releaseShared(): Promise<void> {
    await this.#watches?.close();
  }

  /** This principal's displays: frames, serialised input, displays made on first use. */
  get displays(): Displays {
    return (this.#displays ??= new Displays(new DisplayKit(this.kits)));
  }

  get browser(): BrowserKit {
    return (this.#browser ??= new BrowserKit(this.kits));
  }

  /** Agent sessions: the agent kit and what this principal has been shown of each turn. */
  get agent(): AgentTurns {
    return (this.#agent ??= new AgentTurns(new AgentKit(this.kits), this.shared));
  }

  get daemon(): DaemonKit {
    return (this.#daemon ??= new DaemonKit(this.kits, () => this.files));
  }
  get sqlite(): SqliteKit {
    return (this.#sqlite ??= new SqliteKit(this.kits));
  }
  get ports(): Ports {
    return (this.#ports ??= new Ports(this.kits));
  }
  get raw(): Raw {
    return (this.#raw ??= new Raw(this.control, this.kits));
  }

  /** The container id for an id-or-name reference (or the configured default). */
  async containerId(ref: string | undefined, signal?: AbortSignal): Promise<string> {
    const r = (ref ?? this.config.defaultContainer ?? '').trim();
    if (!r) {
      throw new HoodyError({
        kind: 'bad_request',
        source: 'config',
        message: 'no container given',
        next: { code: 'pass_container' },
      });
    }
    if (isId(r)) return r;
    const hit = this.#names.get(r);
    if (hit && Date.now() - hit.at < 60_000) return hit.id;
    const all = await this.control.listContainers({ signal });
    const matches = all.filter((c) => c.name === r);
    if (matches.length === 1) {
      this.#names.set(r, { id: matches[0]!.id, at: Date.now() });
      for (const c of matches) this.resolver.remember(c);
      return matches[0]!.id;
    }
    if (matches.length > 1) {
      throw new HoodyError({
        kind: 'conflict',
        source: 'api',
        message: `${matches.length} containers are named "${r}" (${matches.map((c) => `${c.id} in ${c.project_alias ?? c.project_id}`).join(', ')})`,
        next: { code: 'pass_container_id' },
      });
    }
    throw new HoodyError({ kind: 'not_found', source: 'api', message: `no container named or with id "${r}"`, next: { code: 'list_containers' } });
  }

  async container(ref: string | undefined, signal?: AbortSignal): Promise<Container> {
    const id = await this.containerId(ref, signal);
    const c = await this.control.getContainer(id, signal);
    this.resolver.remember(c);
    return c;
  }

  /** Where a new container goes: the given project and server, or the defaults (the only project, the first active rental). */
  async placement(opts: { project?: string; serverId?: string }, signal?: AbortSignal): Promise<{ projectId: string; serverId: string }> {
    let projectId = opts.project;
    if (!projectId) {
      const projects = await this.control.listProjects(signal);
      if (projects.length !== 1) {
        throw new HoodyError({
          kind: 'bad_request',
          source: 'api',
          message: projects.length ? `${projects.length} projects exist` : 'no project exists',
          next: projects.length ? { code: 'choose_project', choices: projects.map((p) => ({ id: p.id, name: p.alias })) } : { code: 'create_project' },
        });
      }
      projectId = projects[0]!.id;
    }
    let serverId = opts.serverId;
    if (!serverId) {
      const rentals = await this.control.listRentals(signal);
      serverId = rentals.find((r) => r.status === 'active')?.server_id ?? rentals[0]?.server_id;
      if (!serverId) throw new HoodyError({ kind: 'bad_request', source: 'api', message: 'no server rental found', next: { code: 'rent_server' } });
    }
    return { projectId, serverId };
  }

  /** Create a container where `placement` puts it (not waiting for it: see `waitReady`). */
  async createContainer(opts: CreateContainerOptions, signal?: AbortSignal): Promise<Container> {
    const { projectId, serverId } = await this.placement(opts, signal);
    const body: Record<string, unknown> = { server_id: serverId };
    if (opts.name) body.name = opts.name;
    if (opts.devKit !== undefined) body.dev_kit = opts.devKit;
    const c = await this.control.createContainer(projectId, body, signal);
    this.resolver.remember(c);
    return c;
  }

  /** Delete a container (by id or name) and forget what was cached about it. */
  async deleteContainer(ref: string | undefined, signal?: AbortSignal): Promise<Container> {
    const c = await this.container(ref, signal);
    await this.control.deleteContainer(c.id, signal);
    this.resolver.invalidate(c.id);
    this.#names.delete(c.name);
    return c;
  }

  /** Restore a snapshot: the container's processes restart, so cached kit URLs are dropped. */
  async restoreSnapshot(id: string, snapshot: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.control.restoreSnapshot(id, snapshot, signal);
    } finally {
      this.resolver.invalidate(id);
    }
  }

  /**
   * Wait until a container is `running` and its kits answer: `running` is necessary but not
   * sufficient, the proxy 502s for a while after [S:424]. Returns the container and whether it
   * became ready before `deadline`.
   */
  async waitReady(
    id: string,
    opts: { deadline: number; signal?: AbortSignal; onTick?: (c: Container) => void | Promise<void> },
  ): Promise<{ container: Container; ready: boolean }> {
    const c = await this.control.waitForStatus(id, ['running'], opts);
    this.resolver.remember(c);
    if (c.status !== 'running') return { container: c, ready: false };
    const url = new URL('/api/v1/files/health', this.resolver.urlFor(c, 'files'));
    const answers = async (signal: AbortSignal) => {
      const res = await request({ method: 'GET', url, source: 'files', signal, timeoutMs: 5_000, deadlineMs: 5_000, retry: { attempts: 1 } }).catch(() => undefined);
      await res?.body.dump().catch(() => undefined);
      return !!res && res.status < 500;
    };
    const checks = poll({ read: answers, interval: (i) => 250 * 2 ** Math.min(i, 3), until: opts.deadline, signal: opts.signal, source: 'files' });
    for await (const ok of checks) {
      if (ok) return { container: c, ready: true };
      if (Date.now() < opts.deadline) await opts.onTick?.({ ...c, status: 'running (kits starting)' });
    }
    return { container: c, ready: false };
  }

  /** Run a lifecycle action and wait (until `deadline`) for the state it leads to. */
  async act(
    id: string,
    op: LifecycleOp,
    opts: { deadline: number; signal?: AbortSignal; onTick?: (c: Container) => void | Promise<void> },
  ): Promise<{ container: Container; reached: boolean; already: boolean }> {
    const target = TARGET[op];
    const r = await this.control.lifecycle(id, op, opts.signal);
    this.resolver.invalidate(id);
    const already = !!r.conflict && r.status === target;
    if (r.conflict && !already) {
      throw new HoodyError({
        kind: 'conflict',
        source: 'api',
        message: r.message ?? `cannot ${op} a container that is ${r.status}`,
        next: r.status === 'stopped' ? { code: 'start_container', action: 'start' } : r.status === 'paused' ? { code: 'start_container', action: 'resume' } : undefined,
      });
    }
    if (target === 'running') {
      const { container, ready } = await this.waitReady(id, opts);
      return { container, reached: ready, already };
    }
    const c = await this.control.waitForStatus(id, [target], opts);
    return { container: c, reached: c.status === target, already };
  }
}

const TARGET: Record<LifecycleOp, string> = {
  start: 'running',
  restart: 'running',
  resume: 'running',
  stop: 'stopped',
  'force-stop': 'stopped',
  pause: 'paused',
};

/**
 * One view per credential: a token the control plane has not accepted yet lives in a small trial
 * pool, so made-up tokens cannot push out the state (jobs, caches) of real ones.
 */
const principals = new Tenants<Hoody>({ trial: 64, trusted: 1024, isTrusted: (h) => h.control.accepted });

const keyOf = (config: HoodyConfig, token: string) =>
  createHash('sha256').update(`${config.apiUrl}\0${config.realm ?? ''}\0${config.defaultContainer ?? ''}\0${token}`).digest('hex');

/** Give up what the cached views hold in the shared store (watch leases), for another replica to take at once. */
export async function releaseShared(): Promise<void> {
  await Promise.allSettled([...principals.values()].map((h) => h.releaseShared()));
}

/** The Hoody view of one credential, reused while it is in use. */
export function hoodyFor(config: HoodyConfig, token: string): Hoody {
  return principals.getOrCreate(keyOf(config, token), () => new Hoody(config, token));
}
