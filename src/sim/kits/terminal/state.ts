/**
 * One container's terminals: sessions, their command queues and the real processes behind them
 * (seed-kits-exec-files.md §1). HTTP-free: `routes.ts` parses requests and shapes the answers.
 *
 * Model: a session (`terminal_id`) holds shell settings (cwd, env, user) and runs its commands one
 * at a time; each command is a real `bash` process in its own process group (see sandbox.ts),
 * stdout+stderr merged as a PTY would, stdin a pipe fed by /write and /press. The working directory
 * a command ends in becomes the session's cwd (shell state persists, like one shell in a PTY).
 * A command sent while another runs waits its turn (`status:"queued"`).
 *
 * Undocumented choices: a body `timeout` that fires kills the process group (SIGKILL) and reports
 * `status:"completed"` (or `"timeout"` per `quirks.timeoutStatus`) with `exit_code:124`, the
 * coreutils `timeout` convention. The `user` parameter is recorded and exported as USER/LOGNAME;
 * commands really run as the simulator's own user.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import type { ContainerRec } from '../../records.js';
import { CONTAINER_HOME, isOwned, mapPath, normalizeContainerPath, resolveContainerPath } from '../../sandbox.js';
import type { SimCore } from '../../state.js';
import type { SimExecution } from '../../types.js';
import { KitError, type KitState } from '../base.js';

export type CommandStatus = 'queued' | 'running' | 'completed' | 'aborted' | 'timeout';

export interface Command {
  id: string;
  session: Session;
  command: string;
  /** Container cwd the command starts in. */
  cwd: string;
  /** Per-command cwd from the body: strict (no fallback) and not persisted into the session. */
  cwdOverride: boolean;
  env: Record<string, string>;
  status: CommandStatus;
  exitCode: number | null;
  output: string;
  timeoutS: number;
  child?: ChildProcess;
  /** stdin received before the process was spawned (`null` = end of input). */
  pendingInput: Array<string | null>;
  timer?: NodeJS.Timeout;
  aborted: boolean;
  timedOut: boolean;
  done: Promise<void>;
  finish: () => void;
  execution?: SimExecution;
}

export interface Session {
  id: number;
  ephemeral: boolean;
  cwd: string;
  env: Record<string, string>;
  user: string;
  shell: string;
  startedAt: string;
  history: string[];
  raw: string;
  queue: Command[];
  current?: Command;
  commandIds: Set<string>;
  timer?: NodeJS.Timeout;
}

export interface SessionSettings {
  cwd?: string;
  cwdAutoCreate: boolean;
  user?: string;
  shell?: string;
  env: Record<string, string>;
}

export interface CommandSpec {
  /** Custom command id from the body (`id`), if any. */
  id?: unknown;
  command: string;
  /** Per-command cwd (strict, not persisted), if given. */
  cwd?: string;
  env: Record<string, string>;
  timeoutS: number;
}

const MAX_OUTPUT = 8 * 1024 * 1024;
const MAX_RAW = 1024 * 1024;
const EPHEMERAL_MIN = 40000; // [S:9989]
const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

function appendCapped(buf: string, more: string, cap: number): string {
  const s = buf + more;
  return s.length > cap ? s.slice(s.length - cap) : s;
}

/** `1..65535` from a string or number, else a 400 naming what it is. */
export function parseId(raw: unknown, what: string): number {
  const s = String(raw);
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new KitError(400, `Invalid ${what} (must be numeric 1-65535)`);
  return n;
}

function signalGroup(cmd: Command, sig: NodeJS.Signals): boolean {
  const pid = cmd.child?.pid;
  if (!pid) return false;
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

export class TerminalState implements KitState {
  readonly sessions = new Map<number, Session>();
  readonly commands = new Map<string, Command>();
  private nextCommandId = 1;

  constructor(
    private readonly core: SimCore,
    private readonly container: ContainerRec,
  ) {}

  /* ------------------------------------------------------------------ sessions */

  allocateEphemeral(): number {
    for (let id = EPHEMERAL_MIN; id <= 65535; id++) if (!this.sessions.has(id)) return id;
    throw new KitError(503, 'No ephemeral terminal ids available');
  }

  session(id: number): Session {
    const s = this.sessions.get(id);
    if (!s) throw new KitError(404, 'Terminal session not found'); // SESSION_NOT_FOUND
    return s;
  }

  /** Validates (and with auto-create, creates) a session cwd. */
  private async checkCwd(cwd: string, autoCreate: boolean): Promise<string> {
    let p: string;
    try {
      p = normalizeContainerPath(cwd);
    } catch {
      throw new KitError(400, `Invalid cwd: ${cwd}`);
    }
    const root = this.core.sandboxRoot(this.container.id);
    const resolved = await resolveContainerPath(root, p).catch(() => p);
    const st = await stat(mapPath(root, resolved)).catch(() => undefined);
    if (st?.isDirectory()) return p;
    if (st || !autoCreate) throw new KitError(400, `Working directory does not exist: ${p}`);
    // CWD_PERMISSION_DENIED [R:61361]: only container-owned paths are writable.
    if (!isOwned(resolved)) throw new KitError(403, 'Cannot create requested working directory');
    await mkdir(mapPath(root, resolved), { recursive: true });
    return p;
  }

  /** The session `id`, created with `s` unless it exists (and `reset` is false). */
  async openSession(id: number, ephemeral: boolean, s: SessionSettings, reset: boolean): Promise<Session> {
    const existing = this.sessions.get(id);
    if (existing && !reset) {
      this.touch(existing);
      return existing;
    }
    const cwd = s.cwd ? await this.checkCwd(s.cwd, s.cwdAutoCreate) : CONTAINER_HOME;
    if (existing) this.destroySession(existing);
    const session: Session = {
      id, ephemeral, cwd, env: s.env, user: s.user ?? 'user', shell: s.shell ?? 'bash',
      startedAt: new Date().toISOString(), history: [], raw: '', queue: [], commandIds: new Set(),
    };
    this.sessions.set(id, session);
    this.touch(session);
    return session;
  }

  /**
   * Pinned sessions are reaped after idleReapMs with no process [S:9964]; ephemeral sessions are
   * evicted idleReapMs after creation even if a program still runs [S:9910].
   */
  touch(s: Session): void {
    if (s.ephemeral && s.timer) return;
    this.core.cancel(s.timer);
    s.timer = this.core.later(this.core.opts.idleReapMs, () => {
      s.timer = undefined;
      if (!s.ephemeral && (s.current || s.queue.length)) this.touch(s);
      else this.destroySession(s);
    });
  }

  /** Kills the session's process, drops it and (pinned) its results. */
  destroySession(s: Session): void {
    this.core.cancel(s.timer);
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
    for (const q of s.queue.splice(0)) {
      q.status = 'aborted';
      q.aborted = true;
      q.finish();
    }
    if (s.current) this.abortCommand(s.current, 'SIGKILL');
    if (!s.ephemeral) for (const id of s.commandIds) this.forget(id);
  }

  /** The kit no longer knows this command's result (tests see it as `execution.forgottenAt`). */
  forget(id: string): void {
    const cmd = this.commands.get(id);
    if (cmd?.execution) cmd.execution.forgottenAt = Date.now();
    this.commands.delete(id);
  }

  /* ------------------------------------------------------------------ commands */

  command(id: string): Command {
    const cmd = this.commands.get(id);
    if (!cmd) throw new KitError(404, 'Command not found'); // COMMAND_NOT_FOUND [R:61425]
    return cmd;
  }

  private allocateCommandId(custom: unknown): string {
    if (custom !== undefined && custom !== null && custom !== '') {
      const n = parseId(custom, 'command id');
      const existing = this.commands.get(String(n));
      if (existing && (existing.status === 'queued' || existing.status === 'running')) {
        throw new KitError(409, `Command id ${n} is already in use`);
      }
      return String(n);
    }
    for (let i = 0; i < 65535; i++) {
      const id = String(this.nextCommandId);
      this.nextCommandId = this.nextCommandId >= 65535 ? 1 : this.nextCommandId + 1;
      if (!this.commands.has(id)) return id;
    }
    throw new KitError(503, 'No command ids available');
  }

  /** Queues a command in the session (it starts at once when the session is idle). */
  enqueue(session: Session, spec: CommandSpec): Command {
    const id = this.allocateCommandId(spec.id);
    let cwd = session.cwd;
    if (spec.cwd !== undefined) {
      try {
        cwd = normalizeContainerPath(spec.cwd);
      } catch {
        throw new KitError(400, `Invalid cwd: ${spec.cwd}`);
      }
    }
    let finish = (): void => undefined;
    const done = new Promise<void>((r) => (finish = r));
    const cmd: Command = {
      id, session, command: spec.command, cwd, cwdOverride: spec.cwd !== undefined, env: spec.env, status: 'queued', exitCode: null,
      output: '', timeoutS: spec.timeoutS, pendingInput: [], aborted: false, timedOut: false, done, finish,
    };
    this.commands.set(id, cmd);
    session.commandIds.add(id);
    session.queue.push(cmd);
    this.startNext(session);
    return cmd;
  }

  private baseEnv(s: Session): Record<string, string> {
    const c = this.container;
    const path = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
    for (const p of (process.env.PATH ?? '').split(':')) if (p && !path.includes(p)) path.push(p);
    // A minimal environment: nothing of the simulator's own (no HOODY_TOKEN leaks) [S:549].
    return {
      PATH: path.join(':'), HOME: this.core.isolator.homeFor(this.core.sandboxRoot(c.id)), USER: s.user, LOGNAME: s.user,
      SHELL: '/bin/bash', TERM: 'xterm-256color', LANG: 'C.UTF-8', HOSTNAME: c.name, HOODY_CONTAINER_ID: c.id,
    };
  }

  private startNext(s: Session): void {
    if (s.current || this.core.closing) return;
    const cmd = s.queue.shift();
    if (!cmd) {
      this.touch(s);
      return;
    }
    s.current = cmd;
    cmd.status = 'running';
    const { core, container: c } = this;
    const root = core.sandboxRoot(c.id);
    const env = { ...this.baseEnv(s), ...c.environment_vars, ...s.env, ...cmd.env };
    if (cmd.cwdOverride) env.HOODY_SIM_STRICT_CWD = '1';
    const exec: SimExecution = { containerId: c.id, terminalId: s.id, commandId: cmd.id, command: cmd.command, cwd: cmd.cwd, startedAt: Date.now(), status: 'running' };
    cmd.execution = exec;
    core.executions.push(exec);
    if (core.executions.length > 20_000) core.executions.splice(0, 5_000);
    s.history.push(cmd.command);
    s.raw = appendCapped(s.raw, `${s.user}@${c.name}:${cmd.cwd}$ ${cmd.command}\n`, MAX_RAW);
    core.isolator.spawn({ sandboxRoot: root, cwd: cmd.cwd, command: cmd.command, env }).then(
      (child) => this.attach(cmd, child, root),
      (e: Error) => {
        cmd.output += `${e.message}\n`;
        this.complete(cmd, 127, null);
      },
    );
  }

  /** Wires a spawned process to its command: output, final cwd (fd 3), timeout, exit. */
  private attach(cmd: Command, child: ChildProcess, root: string): void {
    if (cmd.status !== 'running') {
      // Aborted or killed while the process was being spawned.
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      return;
    }
    const s = cmd.session;
    cmd.child = child;
    let reportedCwd = '';
    const onData = (d: string): void => {
      cmd.output = appendCapped(cmd.output, d, MAX_OUTPUT);
      s.raw = appendCapped(s.raw, d, MAX_RAW);
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.stderr?.setEncoding('utf8').on('data', onData);
    const fd3 = child.stdio[3];
    fd3?.on('data', (d: Buffer) => (reportedCwd += d.toString()));
    fd3?.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    for (const chunk of cmd.pendingInput.splice(0)) this.feed(cmd, chunk);
    if (cmd.timeoutS > 0) {
      cmd.timer = this.core.later(cmd.timeoutS * 1000, () => {
        cmd.timedOut = true;
        signalGroup(cmd, 'SIGKILL');
      });
    }
    let exited = false;
    child.on('error', (e) => {
      if (exited) return;
      exited = true;
      cmd.output += `${e.message}\n`;
      this.complete(cmd, 127, null);
    });
    child.on('exit', (code, signal) => {
      if (exited) return;
      exited = true;
      // Output written just before exit may still be in flight: wait for the pipe to drain.
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        if (reportedCwd && !cmd.cwdOverride) s.cwd = this.core.isolator.toContainerPath(root, reportedCwd);
        this.complete(cmd, code, signal);
      };
      if (!child.stdout || child.stdout.readableEnded) settle();
      else {
        child.stdout.once('end', settle);
        setTimeout(settle, 50).unref();
      }
    });
  }

  private complete(cmd: Command, code: number | null, signal: NodeJS.Signals | null): void {
    if (cmd.status !== 'running') return;
    this.core.cancel(cmd.timer);
    if (cmd.aborted) {
      cmd.status = 'aborted';
      cmd.exitCode = null; // [R:61447]
    } else if (cmd.timedOut) {
      cmd.status = this.core.quirks.timeoutStatus === 'timeout' ? 'timeout' : 'completed';
      cmd.exitCode = 124;
    } else {
      cmd.status = 'completed';
      cmd.exitCode = code ?? 128 + (signal ? (SIGNUM[signal] ?? 1) : 0);
    }
    if (cmd.execution) Object.assign(cmd.execution, { endedAt: Date.now(), exitCode: cmd.exitCode, status: cmd.status });
    cmd.child = undefined;
    const s = cmd.session;
    if (s.current === cmd) s.current = undefined;
    cmd.finish();
    if (!s.ephemeral) return this.startNext(s);
    // "aggressive cleanup": the session goes; the result stays resultTtlMs [S:10000].
    if (this.sessions.get(s.id) === s) {
      this.core.cancel(s.timer);
      this.sessions.delete(s.id);
    }
    this.core.later(this.core.opts.resultTtlMs, () => {
      if (this.commands.get(cmd.id) === cmd) this.forget(cmd.id);
    });
  }

  /** Marks the command aborted and signals its process group (completes at once if not spawned yet). */
  abortCommand(cmd: Command, sig: NodeJS.Signals): void {
    cmd.aborted = true;
    if (!signalGroup(cmd, sig) && cmd.status === 'running' && !cmd.child) this.complete(cmd, null, sig);
  }

  /** Takes a queued command out of its session's queue, aborted. */
  dequeue(cmd: Command): void {
    const s = cmd.session;
    s.queue = s.queue.filter((x) => x !== cmd);
    cmd.status = 'aborted';
    cmd.aborted = true;
    cmd.finish();
  }

  /* ------------------------------------------------------------------ input */

  /** The session's running command, able to take input; else 409 NO_PROCESS [R:61493-61590]. */
  runningCommand(s: Session): Command {
    const cmd = s.current;
    const stdin = cmd?.child?.stdin;
    if (!cmd || cmd.pendingInput.includes(null) || (stdin && (stdin.destroyed || stdin.writableEnded))) {
      throw new KitError(409, 'No running process in session');
    }
    return cmd;
  }

  /** Writes to the process's stdin (`null` = end of input), or keeps it until the process is spawned. */
  feed(cmd: Command, data: string | null): void {
    const stdin = cmd.child?.stdin;
    if (!stdin) cmd.pendingInput.push(data);
    else if (data === null) stdin.end();
    else stdin.write(data);
  }

  signal(cmd: Command, sig: NodeJS.Signals): void {
    signalGroup(cmd, sig);
  }

  /* ------------------------------------------------------------------ lifecycle */

  private signalAll(sig: NodeJS.Signals): void {
    for (const s of [...this.sessions.values()]) if (s.current) signalGroup(s.current, sig);
  }

  /** Stop/restart/restore/delete: sessions are in-memory, a reboot kills them [S:9964]. */
  stop(): void {
    for (const s of [...this.sessions.values()]) this.destroySession(s);
  }

  pause(paused: boolean): void {
    this.signalAll(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  async close(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const s of this.sessions.values()) if (s.current) waits.push(s.current.done);
    this.signalAll('SIGCONT');
    this.signalAll('SIGKILL');
    // complete() is what resolves `done`; it runs on the child's exit event.
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}
