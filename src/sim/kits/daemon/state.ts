/**
 * One container's daemon kit (seed-kits-exec-files.md §5, [S:5259-5653]): supervised programs and
 * quick-start one-offs as real processes in the container sandbox (spawned like terminal commands,
 * see sandbox.ts), stdout and stderr written apart under
 * `/hoody/storage/hoody-daemon/logs/<name>/{stdout,stderr}.log` [S:5265].
 *
 * Registered programs persist (`/hoody/storage/hoody-daemon/programs.json`): a container restart
 * keeps them, and `boot: true` ones start again on the kit's first request after it. Quick-start
 * entries are reaped on stop, exit and TTL expiry; after that their logs endpoint 404s, the files
 * stay on disk [S:5352]. Undocumented choices: supervisord-like autorestart (`true` always,
 * `unexpected` on a non-zero exit) with 1 s between tries, and FATAL after 3 exits within 1 s of
 * starting; the TTL is checked exactly (the real kit polls every ~10 s).
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRec } from '../../records.js';
import { CONTAINER_HOME, mapPath, normalizeContainerPath, PathError } from '../../sandbox.js';
import type { SimCore } from '../../state.js';
import { KitError, type KitState } from '../base.js';

export const LOG_BASE = '/hoody/storage/hoody-daemon/logs';
const REGISTRY = '/hoody/storage/hoody-daemon/programs.json';
const USER_RE = /^[a-z_][a-z0-9_-]*\$?$/i;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export type ProcStatus = 'starting' | 'running' | 'stopped' | 'exited' | 'backoff' | 'fatal';

/** What a program or quick-start was asked to run. */
export interface Spec {
  name: string;
  command: string;
  user: string;
  directory?: string;
  environment: Record<string, string>;
  autorestart: 'true' | 'false' | 'unexpected';
}

export interface Program extends Spec {
  id: number;
  enabled: boolean;
  boot: boolean;
  description?: string;
}

/** A running (or last run) process of a program or quick-start. */
export interface Proc {
  spec: Spec;
  status: ProcStatus;
  child?: ChildProcess;
  pid?: number;
  startedAt?: number;
  exitCode?: number | null;
  fastExits: number;
  stopping: boolean;
  timer?: NodeJS.Timeout;
  onGone?: () => void;
}

export interface Quick {
  id: string;
  proc: Proc;
  createdAt: string;
  expiresAt?: string;
}

/** A 400 in the daemon's `{success:false, error}` envelope. */
const bad = (message: string) => new KitError(400, message);

export function checkSpec(b: Record<string, unknown>, nameRequired: boolean): Spec {
  const command = b.command;
  if (typeof command !== 'string' || !command.trim()) throw bad('command is required');
  if (/[\r\n\0]/.test(command)) throw bad('command must not contain newlines, carriage returns or NUL');
  if (command.length > 65_536) throw bad('command is too long');
  const user = b.user;
  if (typeof user !== 'string' || !USER_RE.test(user)) throw bad('user is required and must be a valid system account name');
  if (b.name !== undefined || nameRequired) {
    if (typeof b.name !== 'string' || !NAME_RE.test(b.name)) throw bad('name must be 1-64 characters [A-Za-z0-9_.-]');
  }
  const env = b.environment ?? {};
  if (typeof env !== 'object' || env === null || Array.isArray(env)) throw bad('environment must be an object of strings');
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string') throw bad(`invalid environment variable ${k}`);
  }
  const ar = b.autorestart ?? 'unexpected';
  if (ar !== 'true' && ar !== 'false' && ar !== 'unexpected' && ar !== true && ar !== false) throw bad('autorestart must be "true", "false" or "unexpected"');
  let directory: string | undefined;
  if (b.directory !== undefined) {
    if (typeof b.directory !== 'string') throw bad('directory must be a string');
    try {
      directory = normalizeContainerPath(b.directory);
    } catch (e) {
      throw bad((e as PathError).message);
    }
  }
  return { name: (b.name as string) ?? '', command, user, directory, environment: env as Record<string, string>, autorestart: String(ar) as Spec['autorestart'] };
}

export class DaemonState implements KitState {
  readonly programs = new Map<number, Program>();
  readonly procs = new Map<number, Proc>();
  readonly quick = new Map<string, Quick>();
  private nextId = 1;
  private seq = 0;
  private stopped = false;
  readonly loaded: Promise<void>;

  constructor(
    private readonly core: SimCore,
    private readonly container: ContainerRec,
  ) {
    this.loaded = this.load();
  }

  private host(p: string): string {
    return mapPath(this.core.sandboxRoot(this.container.id), p);
  }

  /** Registered programs come back after a restart; `boot` ones start again. */
  private async load(): Promise<void> {
    const text = await readFile(this.host(REGISTRY), 'utf8').catch(() => '');
    if (!text) return;
    const list = JSON.parse(text) as Program[];
    for (const p of list) {
      this.programs.set(p.id, p);
      this.nextId = Math.max(this.nextId, p.id + 1);
    }
    for (const p of list) if (p.boot && p.enabled) this.startProgram(p);
  }

  async save(): Promise<void> {
    await mkdir(path.dirname(this.host(REGISTRY)), { recursive: true });
    await writeFile(this.host(REGISTRY), JSON.stringify([...this.programs.values()], null, 1));
  }

  logFile(name: string, type: 'stdout' | 'stderr'): string {
    return `${LOG_BASE}/${name}/${type}.log`;
  }

  /** The last `lines` lines of a log (the files outlive the processes). */
  async tail(name: string, type: 'stdout' | 'stderr', lines: number): Promise<string> {
    const text = await readFile(this.host(this.logFile(name, type)), 'utf8').catch(() => '');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n') + (all.length ? '\n' : '');
  }

  addProgram(spec: Spec, b: Record<string, unknown>): Program {
    for (const p of this.programs.values()) if (p.name === spec.name) throw bad(`name already in use: ${spec.name}`);
    const p: Program = { ...spec, id: this.nextId++, enabled: b.enabled !== false, boot: b.boot === true, description: typeof b.description === 'string' ? b.description : undefined };
    this.programs.set(p.id, p);
    return p;
  }

  program(raw: string): Program {
    const p = /^\d+$/.test(raw) ? this.programs.get(Number(raw)) : undefined;
    if (!p) throw new KitError(404, `Program with ID ${raw} not found`);
    return p;
  }

  startProgram(p: Program): Proc {
    const existing = this.procs.get(p.id);
    if (existing && (existing.status === 'running' || existing.status === 'starting')) return existing;
    const proc = this.newProc(p);
    this.procs.set(p.id, proc);
    this.spawn(proc);
    return proc;
  }

  newProc(spec: Spec): Proc {
    return { spec, status: 'starting', fastExits: 0, stopping: false };
  }

  launchQuick(spec: Spec, ttlS: number | undefined): Quick {
    const id = `quick_${Date.now()}_${++this.seq}`;
    const q: Quick = { id, proc: this.newProc({ ...spec, name: spec.name || id }), createdAt: new Date().toISOString() };
    if (ttlS) {
      q.expiresAt = new Date(Date.now() + ttlS * 1000).toISOString();
      this.core.later(ttlS * 1000, () => this.stopQuick(q));
    }
    q.proc.onGone = () => this.quick.delete(id);
    this.quick.set(id, q);
    this.spawn(q.proc);
    return q;
  }

  quickById(id: string): Quick {
    const q = /^quick_[a-zA-Z0-9_]+$/.test(id) ? this.quick.get(id) : undefined;
    if (!q) throw new KitError(404, `Ephemeral program ${id} not found`);
    return q;
  }

  stopQuick(q: Quick): void {
    this.quick.delete(q.id);
    this.kill(q.proc);
  }

  /** Stops a process for good (no autorestart). */
  kill(proc: Proc): void {
    proc.stopping = true;
    this.core.cancel(proc.timer);
    if (proc.child?.pid && proc.child.exitCode === null && proc.child.signalCode === null) {
      try {
        process.kill(-proc.child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const child = proc.child;
      this.core.later(2000, () => {
        try {
          if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      });
    }
    if (proc.status !== 'exited' && proc.status !== 'fatal') proc.status = 'stopped';
    proc.onGone?.();
  }

  private spawn(proc: Proc): void {
    if (this.stopped || this.core.closing) return;
    const { spec } = proc;
    const root = this.core.sandboxRoot(this.container.id);
    const env: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' + (process.env.PATH ? `:${process.env.PATH}` : ''),
      HOME: this.core.isolator.homeFor(root), USER: spec.user, LOGNAME: spec.user,
      ...this.container.environment_vars, ...spec.environment,
    };
    proc.status = 'starting';
    proc.stopping = false;
    // stderr apart from stdout: the sandbox merges them, so the command moves fd 2 onto fd 3 first.
    const command = `exec 2>&3 3>&-\n${spec.command}`;
    const open = async () => {
      const dir = this.host(`${LOG_BASE}/${spec.name}`);
      await mkdir(dir, { recursive: true });
      const out = createWriteStream(path.join(dir, 'stdout.log'), { flags: 'a' });
      const err = createWriteStream(path.join(dir, 'stderr.log'), { flags: 'a' });
      const child = await this.core.isolator.spawn({ sandboxRoot: root, cwd: spec.directory ?? CONTAINER_HOME, command, env });
      return { child, out, err };
    };
    open().then(
      ({ child, out, err }) => this.wire(proc, child, out, err),
      () => {
        proc.status = 'fatal';
        proc.onGone?.();
      },
    );
  }

  private wire(proc: Proc, child: ChildProcess, out: WriteStream, err: WriteStream): void {
    proc.child = child;
    proc.pid = child.pid;
    proc.startedAt = Date.now();
    child.stdin?.end();
    child.stdout?.pipe(out);
    child.stdio[3]?.on('error', () => undefined);
    (child.stdio[3] as NodeJS.ReadableStream | undefined)?.pipe(err);
    child.stderr?.resume();
    if (proc.stopping) this.kill(proc);
    else proc.status = 'running';
    child.on('error', () => undefined);
    child.on('close', (code) => this.exited(proc, code));
  }

  private exited(proc: Proc, code: number | null): void {
    proc.exitCode = code;
    proc.child = undefined;
    if (proc.stopping || this.stopped) {
      if (proc.status !== 'fatal') proc.status = 'stopped';
      return;
    }
    const fast = Date.now() - (proc.startedAt ?? 0) < 1000;
    proc.fastExits = fast ? proc.fastExits + 1 : 0;
    const again = proc.spec.autorestart === 'true' || (proc.spec.autorestart === 'unexpected' && code !== 0);
    if (!again) {
      proc.status = 'exited';
      proc.onGone?.();
      return;
    }
    if (proc.fastExits >= 3) {
      proc.status = 'fatal';
      proc.onGone?.();
      return;
    }
    proc.status = 'backoff';
    proc.timer = this.core.later(1000, () => this.spawn(proc));
  }

  pause(paused: boolean): void {
    const all = [...this.procs.values(), ...[...this.quick.values()].map((q) => q.proc)];
    for (const p of all) {
      try {
        if (p.child?.pid) process.kill(-p.child.pid, paused ? 'SIGSTOP' : 'SIGCONT');
      } catch {
        /* gone */
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.procs.values()) this.kill(p);
    for (const q of [...this.quick.values()]) this.stopQuick(q);
  }
}
