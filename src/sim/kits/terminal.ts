/**
 * The `terminal` kit at `/api/v1/terminal/*` (seed-kits-exec-files.md §1, checklist §1.10).
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
import { Router, type Params } from '../router.js';
import { mapPath, normalizeContainerPath, isOwned, resolveContainerPath, CONTAINER_HOME } from '../sandbox.js';
import type { ContainerRec, KitRuntime, SimCore } from '../state.js';
import type { SimExecution } from '../types.js';
import { BadJson, BodyTooLarge, flag, readJsonObject, reason, sendJson, sendText } from '../util.js';
import { KEY_NAMES, keyAction } from './terminal-keys.js';
import type { KitContext, KitFactory } from './types.js';

type CommandStatus = 'queued' | 'running' | 'completed' | 'aborted' | 'timeout';

interface Command {
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

interface Session {
  id: number;
  container: ContainerRec;
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

interface ContainerTerminals {
  sessions: Map<number, Session>;
  commands: Map<string, Command>;
  nextCommandId: number;
}

const MAX_OUTPUT = 8 * 1024 * 1024;
const MAX_RAW = 1024 * 1024;
const EPHEMERAL_MIN = 40000; // [S:9989]

class TerminalError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function appendCapped(buf: string, more: string, cap: number): string {
  const s = buf + more;
  return s.length > cap ? s.slice(s.length - cap) : s;
}

export const createTerminalKit: KitFactory = (core: SimCore): KitRuntime => {
  const state = new Map<string, ContainerTerminals>();
  const started = new Date().toISOString();

  function terms(c: ContainerRec): ContainerTerminals {
    let t = state.get(c.id);
    if (!t) {
      t = { sessions: new Map(), commands: new Map(), nextCommandId: 1 };
      state.set(c.id, t);
    }
    return t;
  }

  /* ------------------------------------------------------------------ presentation */

  function text(raw: string): string {
    // A PTY turns "\n" into "\r\n" (ONLCR).
    return core.quirks.crlf === false ? raw : raw.replace(/\r?\n/g, '\r\n');
  }

  /** `stdout` [S:10045] and/or `output` [R:61420] per `quirks.output`. */
  function withOutput(base: Record<string, unknown>, raw: string): Record<string, unknown> {
    const mode = core.quirks.output ?? 'both';
    const t = text(raw);
    if (mode !== 'output') base.stdout = t;
    if (mode !== 'stdout') base.output = t;
    return base;
  }

  function result(cmd: Command): Record<string, unknown> {
    return withOutput({ command_id: cmd.id, terminal_id: String(cmd.session.id), status: cmd.status, exit_code: cmd.exitCode }, cmd.output);
  }

  /* ------------------------------------------------------------------ sessions */

  function parseTerminalId(q: URLSearchParams, required: boolean): number | undefined {
    const raw = q.get('terminal_id');
    // terminal_id=0 is the explicit "absent" sentinel [S:9990].
    if (raw === null || raw === '' || raw === '0') {
      if (required) throw new TerminalError(400, 'terminal_id parameter required');
      return undefined;
    }
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= 65535)) throw new TerminalError(400, 'Invalid terminal_id (must be numeric 1-65535)');
    return n;
  }

  function allocateEphemeral(t: ContainerTerminals): number {
    for (let id = EPHEMERAL_MIN; id <= 65535; id++) if (!t.sessions.has(id)) return id;
    throw new TerminalError(503, 'No ephemeral terminal ids available');
  }

  interface SessionSettings {
    cwd?: string;
    cwdAutoCreate: boolean;
    user?: string;
    shell?: string;
    env: Record<string, string>;
  }

  function settingsFromQuery(q: URLSearchParams): SessionSettings {
    const env: Record<string, string> = {};
    for (const kv of q.getAll('env')) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return {
      cwd: q.get('cwd') || undefined,
      cwdAutoCreate: flag(q, 'cwd_auto_create'),
      user: q.get('user') || undefined,
      shell: q.get('shell') || undefined,
      env,
    };
  }

  /** Validates (and with auto-create, creates) a session cwd. */
  async function checkCwd(c: ContainerRec, cwd: string, autoCreate: boolean): Promise<string> {
    let p: string;
    try {
      p = normalizeContainerPath(cwd);
    } catch {
      throw new TerminalError(400, `Invalid cwd: ${cwd}`);
    }
    const root = core.sandboxRoot(c.id);
    const resolved = await resolveContainerPath(root, p).catch(() => p);
    const st = await stat(mapPath(root, resolved)).catch(() => undefined);
    if (st?.isDirectory()) return p;
    if (st || !autoCreate) throw new TerminalError(400, `Working directory does not exist: ${p}`);
    // CWD_PERMISSION_DENIED [R:61361]: only container-owned paths are writable.
    if (!isOwned(resolved)) throw new TerminalError(403, 'Cannot create requested working directory');
    await mkdir(mapPath(root, resolved), { recursive: true });
    return p;
  }

  async function openSession(c: ContainerRec, id: number, ephemeral: boolean, s: SessionSettings, reset: boolean): Promise<{ session: Session; created: boolean }> {
    const t = terms(c);
    const existing = t.sessions.get(id);
    if (existing && !reset) {
      touch(existing);
      return { session: existing, created: false };
    }
    const cwd = s.cwd ? await checkCwd(c, s.cwd, s.cwdAutoCreate) : CONTAINER_HOME;
    if (existing) destroySession(existing);
    const session: Session = {
      id, container: c, ephemeral, cwd, env: s.env, user: s.user ?? 'user', shell: s.shell ?? 'bash',
      startedAt: new Date().toISOString(), history: [], raw: '', queue: [], commandIds: new Set(),
    };
    t.sessions.set(id, session);
    touch(session);
    return { session, created: true };
  }

  /**
   * Pinned sessions are reaped after idleReapMs with no process [S:9964]; ephemeral sessions are
   * evicted idleReapMs after creation even if a program still runs [S:9910].
   */
  function touch(s: Session): void {
    if (s.ephemeral && s.timer) return;
    core.cancel(s.timer);
    s.timer = core.later(core.opts.idleReapMs, () => {
      s.timer = undefined;
      if (!s.ephemeral && (s.current || s.queue.length)) touch(s);
      else destroySession(s);
    });
  }

  /** Kills the session's process, drops it and (pinned) its results. */
  function destroySession(s: Session): void {
    const t = terms(s.container);
    core.cancel(s.timer);
    if (t.sessions.get(s.id) === s) t.sessions.delete(s.id);
    for (const q of s.queue.splice(0)) {
      q.status = 'aborted';
      q.aborted = true;
      q.finish();
    }
    if (s.current) abortCommand(s.current, 'SIGKILL');
    if (!s.ephemeral) for (const id of s.commandIds) t.commands.delete(id);
  }

  /* ------------------------------------------------------------------ commands */

  function allocateCommandId(t: ContainerTerminals, custom: unknown): string {
    if (custom !== undefined && custom !== null && custom !== '') {
      const raw = String(custom);
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(n >= 1 && n <= 65535)) throw new TerminalError(400, 'Invalid command id (must be numeric 1-65535)');
      const existing = t.commands.get(String(n));
      if (existing && (existing.status === 'queued' || existing.status === 'running')) {
        throw new TerminalError(409, `Command id ${n} is already in use`);
      }
      return String(n);
    }
    for (let i = 0; i < 65535; i++) {
      const id = String(t.nextCommandId);
      t.nextCommandId = t.nextCommandId >= 65535 ? 1 : t.nextCommandId + 1;
      if (!t.commands.has(id)) return id;
    }
    throw new TerminalError(503, 'No command ids available');
  }

  function baseEnv(c: ContainerRec, s: Session): Record<string, string> {
    const path = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
    for (const p of (process.env.PATH ?? '').split(':')) if (p && !path.includes(p)) path.push(p);
    // A minimal environment: nothing of the simulator's own (no HOODY_TOKEN leaks) [S:549].
    return {
      PATH: path.join(':'), HOME: core.isolator.homeFor(core.sandboxRoot(c.id)), USER: s.user, LOGNAME: s.user,
      SHELL: '/bin/bash', TERM: 'xterm-256color', LANG: 'C.UTF-8', HOSTNAME: c.name, HOODY_CONTAINER_ID: c.id,
    };
  }

  function startNext(s: Session): void {
    if (s.current || core.closing) return;
    const cmd = s.queue.shift();
    if (!cmd) {
      touch(s);
      return;
    }
    s.current = cmd;
    cmd.status = 'running';
    const c = s.container;
    const root = core.sandboxRoot(c.id);
    const env = { ...baseEnv(c, s), ...c.environment_vars, ...s.env, ...cmd.env };
    if (cmd.cwdOverride) env.HOODY_SIM_STRICT_CWD = '1';
    const exec: SimExecution = { containerId: c.id, terminalId: s.id, commandId: cmd.id, command: cmd.command, cwd: cmd.cwd, startedAt: Date.now(), status: 'running' };
    cmd.execution = exec;
    core.executions.push(exec);
    if (core.executions.length > 20_000) core.executions.splice(0, 5_000);
    s.history.push(cmd.command);
    s.raw = appendCapped(s.raw, `${s.user}@${c.name}:${cmd.cwd}$ ${cmd.command}\n`, MAX_RAW);
    core.isolator.spawn({ sandboxRoot: root, cwd: cmd.cwd, command: cmd.command, env }).then(
      (child) => attach(cmd, child, root),
      (e: Error) => {
        cmd.output += `${e.message}\n`;
        complete(cmd, 127, null);
      },
    );
  }

  /** Wires a spawned process to its command: output, final cwd (fd 3), timeout, exit. */
  function attach(cmd: Command, child: ChildProcess, root: string): void {
    const s = cmd.session;
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
    for (const chunk of cmd.pendingInput.splice(0)) {
      if (chunk === null) child.stdin?.end();
      else child.stdin?.write(chunk);
    }
    if (cmd.timeoutS > 0) {
      cmd.timer = core.later(cmd.timeoutS * 1000, () => {
        cmd.timedOut = true;
        signalGroup(cmd, 'SIGKILL');
      });
    }
    let exited = false;
    child.on('error', (e) => {
      if (exited) return;
      exited = true;
      cmd.output += `${e.message}\n`;
      complete(cmd, 127, null);
    });
    child.on('exit', (code, signal) => {
      if (exited) return;
      exited = true;
      // Output written just before exit may still be in flight: wait for the pipe to drain.
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        if (reportedCwd && !cmd.cwdOverride) s.cwd = core.isolator.toContainerPath(root, reportedCwd);
        complete(cmd, code, signal);
      };
      if (!child.stdout || child.stdout.readableEnded) settle();
      else {
        child.stdout.once('end', settle);
        setTimeout(settle, 50).unref();
      }
    });
  }

  const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

  function complete(cmd: Command, code: number | null, signal: NodeJS.Signals | null): void {
    if (cmd.status !== 'running') return;
    core.cancel(cmd.timer);
    if (cmd.aborted) {
      cmd.status = 'aborted';
      cmd.exitCode = null; // [R:61447]
    } else if (cmd.timedOut) {
      cmd.status = core.quirks.timeoutStatus === 'timeout' ? 'timeout' : 'completed';
      cmd.exitCode = 124;
    } else {
      cmd.status = 'completed';
      cmd.exitCode = code ?? 128 + (signal ? (SIGNUM[signal] ?? 1) : 0);
    }
    if (cmd.execution) {
      cmd.execution.endedAt = Date.now();
      cmd.execution.exitCode = cmd.exitCode;
      cmd.execution.status = cmd.status;
    }
    cmd.child = undefined;
    const s = cmd.session;
    if (s.current === cmd) s.current = undefined;
    cmd.finish();
    const t = terms(s.container);
    if (s.ephemeral) {
      // "aggressive cleanup": the session goes; the result stays resultTtlMs [S:10000].
      if (t.sessions.get(s.id) === s) {
        core.cancel(s.timer);
        t.sessions.delete(s.id);
      }
      core.later(core.opts.resultTtlMs, () => {
        if (t.commands.get(cmd.id) === cmd) t.commands.delete(cmd.id);
      });
    } else {
      startNext(s);
    }
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

  /** Marks the command aborted and signals its process group (completes at once if not spawned yet). */
  function abortCommand(cmd: Command, sig: NodeJS.Signals): void {
    cmd.aborted = true;
    if (!signalGroup(cmd, sig) && cmd.status === 'running' && !cmd.child) complete(cmd, null, sig);
  }

  function newCommand(s: Session, id: string, command: string, cwd: string, cwdOverride: boolean, env: Record<string, string>, timeoutS: number): Command {
    let finish = (): void => undefined;
    const done = new Promise<void>((r) => (finish = r));
    return { id, session: s, command, cwd, cwdOverride, env, status: 'queued', exitCode: null, output: '', timeoutS, pendingInput: [], aborted: false, timedOut: false, done, finish };
  }

  /* ------------------------------------------------------------------ handlers */

  async function jsonBody(ctx: KitContext): Promise<Record<string, unknown>> {
    try {
      return await readJsonObject(ctx.req);
    } catch (e) {
      if (e instanceof BodyTooLarge) throw new TerminalError(413, 'Request body too large');
      if (e instanceof BadJson) throw new TerminalError(400, 'Invalid JSON body');
      throw e;
    }
  }

  /** `POST /execute` [S:10262-10299], [R:61286-61386]. */
  async function execute(ctx: KitContext): Promise<void> {
    const q = ctx.query;
    const ephemeral = flag(q, 'ephemeral');
    const tid = parseTerminalId(q, !ephemeral);
    const b = await jsonBody(ctx);
    let command = typeof b.command === 'string' ? b.command : undefined;
    const cmdParam = q.get('cmd');
    // Only the URL form `?cmd=` is base64 [S:9994].
    if (command === undefined && cmdParam) command = Buffer.from(cmdParam, 'base64').toString('utf8');
    if (command === undefined || command === '') throw new TerminalError(400, "Missing 'command' field");
    const timeoutS = b.timeout === undefined || b.timeout === null ? 0 : Number(b.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS < 0) throw new TerminalError(400, 'Invalid timeout (seconds, 0 = none)');
    // `wait` is documented in the body; live examples pass it in the query [S:10036]. Default true.
    const wait = q.has('wait') ? flag(q, 'wait') : b.wait === undefined ? true : b.wait === true || b.wait === 'true';
    const t = terms(ctx.container);
    const id = tid ?? allocateEphemeral(t);
    const { session } = await openSession(ctx.container, id, ephemeral, settingsFromQuery(q), flag(q, 'reset'));
    const commandId = allocateCommandId(t, b.id);
    const bodyCwd = typeof b.cwd === 'string' && b.cwd !== '' ? b.cwd : undefined;
    let cwd = session.cwd;
    if (bodyCwd) {
      try {
        cwd = normalizeContainerPath(bodyCwd);
      } catch {
        throw new TerminalError(400, `Invalid cwd: ${bodyCwd}`);
      }
    }
    const env: Record<string, string> = {};
    if (b.env && typeof b.env === 'object' && !Array.isArray(b.env)) {
      for (const [k, v] of Object.entries(b.env as Record<string, unknown>)) env[k] = String(v);
    }
    const cmd = newCommand(session, commandId, command, cwd, bodyCwd !== undefined, env, timeoutS);
    t.commands.set(commandId, cmd);
    session.commandIds.add(commandId);
    session.queue.push(cmd);
    startNext(session);
    if (!wait) {
      // Never "completed" with wait=false [S:9997].
      sendJson(ctx.res, 200, { command_id: commandId, terminal_id: String(session.id), status: cmd.status === 'queued' ? 'queued' : 'running' });
      return;
    }
    await cmd.done;
    sendJson(ctx.res, 200, result(cmd));
  }

  function findCommand(ctx: KitContext, id: string): Command {
    const cmd = terms(ctx.container).commands.get(id);
    if (!cmd) throw new TerminalError(404, 'Command not found'); // COMMAND_NOT_FOUND [R:61425]
    return cmd;
  }

  function getResult(ctx: KitContext, p: Params): void {
    sendJson(ctx.res, 200, result(findCommand(ctx, p.id as string)));
  }

  /** `POST /execute/{id}/abort {force?}` [R:61445-61490]. */
  async function abort(ctx: KitContext, p: Params): Promise<void> {
    const cmd = findCommand(ctx, p.id as string);
    const b = await jsonBody(ctx);
    const force = b.force === true;
    if (cmd.status !== 'queued' && cmd.status !== 'running') {
      // Idempotent: aborting a finished command → 409 with the existing result.
      sendJson(ctx.res, 409, { statusCode: 409, error: 'Conflict', message: 'Command already finished', ...result(cmd) });
      return;
    }
    if (cmd.status === 'queued') {
      const s = cmd.session;
      s.queue = s.queue.filter((x) => x !== cmd);
      cmd.status = 'aborted';
      cmd.aborted = true;
      cmd.finish();
    } else {
      // Graceful = SIGINT (Ctrl+C), force = SIGKILL to the process group.
      abortCommand(cmd, force ? 'SIGKILL' : 'SIGINT');
      await Promise.race([cmd.done, core.wait(1000)]);
      if (cmd.status === 'running') {
        // A program trapping SIGINT survives a graceful abort ("use force=true" [R:61447]).
        cmd.aborted = false;
        sendJson(ctx.res, 200, withOutput({ command_id: cmd.id, status: 'running', exit_code: null, message: 'SIGINT sent but the process is still running; retry with force:true' }, cmd.output));
        return;
      }
    }
    sendJson(ctx.res, 200, withOutput({ command_id: cmd.id, status: 'aborted', exit_code: null }, cmd.output));
  }

  function sessionFor(ctx: KitContext): Session {
    const id = parseTerminalId(ctx.query, true) as number;
    const s = terms(ctx.container).sessions.get(id);
    if (!s) throw new TerminalError(404, 'Terminal session not found');
    return s;
  }

  /** The session's running command, able to take input; else 409 NO_PROCESS [R:61493-61590]. */
  function runningCommand(s: Session): Command {
    const cmd = s.current;
    const stdin = cmd?.child?.stdin;
    if (!cmd || cmd.pendingInput.includes(null) || (stdin && (stdin.destroyed || stdin.writableEnded))) {
      throw new TerminalError(409, 'No running process in session');
    }
    return cmd;
  }

  /** Writes to the process's stdin, or keeps it until the process is spawned. */
  function feed(cmd: Command, data: string | null): void {
    const stdin = cmd.child?.stdin;
    if (!stdin) cmd.pendingInput.push(data);
    else if (data === null) stdin.end();
    else stdin.write(data);
  }

  /** `POST /write?terminal_id=N {input, enter?=true}` [R:61493-61590]. */
  async function write(ctx: KitContext): Promise<void> {
    const s = sessionFor(ctx);
    const b = await jsonBody(ctx);
    if (typeof b.input !== 'string') throw new TerminalError(400, "Missing 'input' field");
    const cmd = runningCommand(s);
    const data = b.input + (b.enter === false ? '' : '\n');
    feed(cmd, data);
    touch(s);
    sendJson(ctx.res, 200, { status: 'ok', bytes_written: Buffer.byteLength(data) });
  }

  /** `POST /press?terminal_id=N {keys[]|key}`: all keys validated first [R:60990]. */
  async function press(ctx: KitContext): Promise<void> {
    const s = sessionFor(ctx);
    const b = await jsonBody(ctx);
    const hasKeys = b.keys !== undefined;
    const hasKey = b.key !== undefined;
    if (hasKeys === hasKey) throw new TerminalError(400, "Exactly one of 'keys' or 'key' is required");
    const names = hasKeys ? b.keys : [b.key];
    if (!Array.isArray(names) || names.length === 0 || names.length > 256 || !names.every((k): k is string => typeof k === 'string')) {
      throw new TerminalError(400, 'Unknown key name or invalid request');
    }
    const actions = names.map((n) => ({ n, a: keyAction(n) }));
    const bad = actions.find((x) => !x.a);
    if (bad) throw new TerminalError(400, `Unknown key name or invalid request: ${bad.n}`);
    const cmd = runningCommand(s);
    let bytes = 0;
    for (const { a } of actions) {
      if (!a) continue;
      if ('bytes' in a) {
        feed(cmd, a.bytes);
        bytes += Buffer.byteLength(a.bytes);
      } else if ('signal' in a) {
        signalGroup(cmd, a.signal);
        bytes += 1;
      } else {
        feed(cmd, null);
        bytes += 1;
      }
    }
    touch(s);
    sendJson(ctx.res, 200, { terminal_id: s.id, keys_pressed: names.length, bytes_written: bytes });
  }

  function keys(ctx: KitContext): void {
    sendJson(ctx.res, 200, { keys: KEY_NAMES });
  }

  /** `POST /create` — idempotent [R:62278]; response per `quirks.createShape` (§8 #4). */
  async function create(ctx: KitContext): Promise<void> {
    const b = await jsonBody(ctx);
    const ephemeral = b.ephemeral === true;
    const rawId = b.terminal_id ?? ctx.query.get('terminal_id') ?? undefined;
    let id: number | undefined;
    if (rawId !== undefined && rawId !== null && String(rawId) !== '' && String(rawId) !== '0') {
      const n = /^\d+$/.test(String(rawId)) ? Number(rawId) : NaN;
      if (!(n >= 1 && n <= 65535)) throw new TerminalError(400, 'Invalid terminal_id (must be numeric 1-65535)');
      id = n;
    }
    if (id === undefined && !ephemeral) throw new TerminalError(400, 'terminal_id is required');
    const t = terms(ctx.container);
    const env: Record<string, string> = {};
    if (b.env && typeof b.env === 'object') for (const [k, v] of Object.entries(b.env as Record<string, unknown>)) env[k] = String(v);
    const { session } = await openSession(ctx.container, id ?? allocateEphemeral(t), ephemeral, {
      cwd: typeof b.cwd === 'string' ? b.cwd : ctx.query.get('cwd') || undefined,
      cwdAutoCreate: flag(ctx.query, 'cwd_auto_create') || b.cwd_auto_create === true,
      user: typeof b.user === 'string' ? b.user : undefined,
      shell: typeof b.shell === 'string' ? b.shell : undefined,
      env,
    }, false);
    const display = b.display === undefined || b.display === null ? undefined : String(b.display).replace(/^:?/, ':');
    if (core.quirks.createShape === 'reference') {
      sendJson(ctx.res, 200, { status: 'created', terminal_id: session.id, ...(display ? { display } : {}), shell: session.shell });
    } else {
      sendJson(ctx.res, 200, { status: 'ok', terminal_id: String(session.id), shell_ready: true, cwd: session.cwd });
    }
  }

  function sessions(ctx: KitContext): void {
    const limit = Math.min(1000, Math.max(0, Number(ctx.query.get('history_limit') ?? ctx.query.get('history_lines') ?? 50) || 50));
    const list = [...terms(ctx.container).sessions.values()].map((s) => ({
      id: s.id, shell: s.shell, cwd: s.cwd, started_at: s.startedAt, ephemeral: s.ephemeral, user: s.user,
      running: s.current !== undefined, command_history: s.history.slice(-limit),
    }));
    sendJson(ctx.res, 200, list); // a bare array [R:62228-62270]
  }

  function remove(ctx: KitContext, p: Params): void {
    const raw = p.tid as string;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= 65535)) throw new TerminalError(400, 'Invalid terminal_id (must be numeric 1-65535)');
    const s = terms(ctx.container).sessions.get(n);
    if (!s) throw new TerminalError(404, 'Terminal session not found'); // SESSION_NOT_FOUND
    destroySession(s);
    sendJson(ctx.res, 200, { status: 'deleted', terminal_id: n });
  }

  /** `GET /raw` — terminal_id defaults to "1", format defaults to download [R:62561-62600]. */
  function raw(ctx: KitContext): void {
    const q = ctx.query;
    const id = q.get('terminal_id') && q.get('terminal_id') !== '0' ? Number(q.get('terminal_id')) : 1;
    const s = terms(ctx.container).sessions.get(id);
    if (!s) {
      sendText(ctx.res, 404, 'Terminal session not found');
      return;
    }
    let out = text(s.raw);
    const tail = Number(q.get('tail') ?? '');
    if (Number.isInteger(tail) && tail > 0) out = out.split(/\r?\n/).slice(-tail - (out.endsWith('\n') ? 1 : 0)).join(core.quirks.crlf === false ? '\n' : '\r\n');
    const format = q.get('format') ?? 'download';
    if (format === 'text') sendText(ctx.res, 200, out);
    else if (format === 'html') sendText(ctx.res, 200, `<pre>${out.replace(/[&<>]/g, (ch) => `&#${ch.charCodeAt(0)};`)}</pre>`, 'text/html; charset=utf-8');
    else sendText(ctx.res, 200, out, 'application/octet-stream', { 'Content-Disposition': `attachment; filename="terminal-${id}.log"` });
  }

  function health(ctx: KitContext): void {
    const mem = process.memoryUsage();
    // The standard 9-field kit health [seed-kits §0.6].
    sendJson(ctx.res, 200, {
      status: 'ok', service: 'hoody-terminal', built: '2025-01-01T00:00:00Z', started, memory: { rss: mem.rss, heap: mem.heapUsed },
      fds: 0, pid: process.pid, ip: '127.0.0.1', userAgent: String(ctx.req.headers['user-agent'] ?? ''),
    });
  }

  const T = '/api/v1/terminal';
  const router = new Router<KitContext>([
    { method: 'POST', pattern: `${T}/execute`, handler: execute },
    { method: 'GET', pattern: `${T}/result/:id`, handler: getResult },
    { method: 'POST', pattern: `${T}/execute/:id/abort`, handler: abort },
    { method: 'POST', pattern: `${T}/write`, handler: write },
    { method: 'POST', pattern: `${T}/press`, handler: press },
    { method: 'GET', pattern: `${T}/keys`, handler: keys },
    { method: 'POST', pattern: `${T}/create`, handler: create },
    { method: 'GET', pattern: `${T}/sessions`, handler: sessions },
    { method: 'GET', pattern: `${T}/raw`, handler: raw },
    { method: 'GET', pattern: `${T}/health`, handler: health },
    { method: 'DELETE', pattern: `${T}/:tid`, handler: remove },
  ]);

  function error(ctx: KitContext, status: number, message: string, extra: Record<string, unknown> = {}): void {
    // Terminal kit errors: {statusCode, error, message} [R:61345-61386].
    sendJson(ctx.res, status, { statusCode: status, error: reason(status), message, ...extra });
  }

  function killAll(containerId: string, sig: NodeJS.Signals): void {
    const t = state.get(containerId);
    if (!t) return;
    for (const s of [...t.sessions.values()]) if (s.current) signalGroup(s.current, sig);
  }

  return {
    slug: 'terminal',
    async handle(ctx: KitContext): Promise<void> {
      try {
        const m = router.match(ctx.method, ctx.path);
        if (m.kind === 'method') return error(ctx, 405, `Request method is not ${m.allowed[0]}`);
        if (m.kind === 'none') return error(ctx, 404, 'Not found');
        await m.handler(ctx, m.params);
      } catch (e) {
        if (ctx.res.headersSent) return;
        if (e instanceof TerminalError) error(ctx, e.status, e.message, e.extra);
        else error(ctx, 500, 'Command execution failed');
      }
    },
    /** Stop/restart/restore/delete: sessions are in-memory, a reboot kills them [S:9964]. */
    onStop(containerId: string): void {
      const t = state.get(containerId);
      if (!t) return;
      for (const s of [...t.sessions.values()]) destroySession(s);
      state.delete(containerId);
    },
    onPause(containerId: string, paused: boolean): void {
      killAll(containerId, paused ? 'SIGSTOP' : 'SIGCONT');
    },
    async close(): Promise<void> {
      const waits: Promise<void>[] = [];
      for (const [id, t] of state) {
        for (const s of t.sessions.values()) if (s.current) waits.push(s.current.done);
        killAll(id, 'SIGCONT');
        killAll(id, 'SIGKILL');
      }
      // complete() is what resolves `done`; it runs on the child's exit event.
      await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 2000).unref())]);
      state.clear();
    },
  };
};
