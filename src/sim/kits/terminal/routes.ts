/**
 * The `terminal` kit at `/api/v1/terminal/*` (seed-kits-exec-files.md §1, checklist §1.10): the
 * route table over {@link TerminalState}, and the response shapes (quirk-dependent output fields,
 * CRLF, create shape). Errors are `{statusCode, error, message}` [R:61345-61386].
 */
import type { Params, Route } from '../../router.js';
import type { SimCore } from '../../state.js';
import { flag, reason, sendJson, sendText } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import type { KitRuntime } from '../types.js';
import { displaysOf, MAX_DISPLAY_ID, type XServer } from '../display/xserver.js';
import { KEY_NAMES, keyAction } from './keys.js';
import { parseId, TerminalState, type Command, type SessionSettings } from './state.js';

type Req = KitRequest<TerminalState>;

/* ------------------------------------------------------------------ presentation */

function text(core: SimCore, raw: string): string {
  // A PTY turns "\n" into "\r\n" (ONLCR).
  return core.quirks.crlf === false ? raw : raw.replace(/\r?\n/g, '\r\n');
}

/** `stdout` [S:10045] and/or `output` [R:61420] per `quirks.output`. */
function withOutput(core: SimCore, base: Record<string, unknown>, raw: string): Record<string, unknown> {
  const mode = core.quirks.output ?? 'both';
  const t = text(core, raw);
  if (mode !== 'output') base.stdout = t;
  if (mode !== 'stdout') base.output = t;
  return base;
}

function result(core: SimCore, cmd: Command): Record<string, unknown> {
  return withOutput(core, { command_id: cmd.id, terminal_id: String(cmd.session.id), status: cmd.status, exit_code: cmd.exitCode }, cmd.output);
}

/* ------------------------------------------------------------------ parsing */

function parseTerminalId(q: URLSearchParams, required: boolean): number | undefined {
  const raw = q.get('terminal_id');
  // terminal_id=0 is the explicit "absent" sentinel [S:9990].
  if (raw === null || raw === '' || raw === '0') {
    if (required) throw new KitError(400, 'terminal_id parameter required');
    return undefined;
  }
  return parseId(raw, 'terminal_id');
}

function envOf(v: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v as Record<string, unknown>)) env[k] = String(x);
  return env;
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

/* ------------------------------------------------------------------ commands */

/** `POST /execute` [S:10262-10299], [R:61286-61386]. */
async function execute(req: Req): Promise<void> {
  const { query: q, state } = req;
  const ephemeral = flag(q, 'ephemeral');
  const tid = parseTerminalId(q, !ephemeral);
  const b = await req.json();
  let command = typeof b.command === 'string' ? b.command : undefined;
  const cmdParam = q.get('cmd');
  // Only the URL form `?cmd=` is base64 [S:9994].
  if (command === undefined && cmdParam) command = Buffer.from(cmdParam, 'base64').toString('utf8');
  if (command === undefined || command === '') throw new KitError(400, "Missing 'command' field");
  const timeoutS = b.timeout === undefined || b.timeout === null ? 0 : Number(b.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw new KitError(400, 'Invalid timeout (seconds, 0 = none)');
  // `wait` is documented in the body; live examples pass it in the query [S:10036]. Default true.
  const wait = q.has('wait') ? flag(q, 'wait') : b.wait === undefined ? true : b.wait === true || b.wait === 'true';
  const session = await state.openSession(tid ?? state.allocateEphemeral(), ephemeral, settingsFromQuery(q), flag(q, 'reset'));
  const cwd = typeof b.cwd === 'string' && b.cwd !== '' ? b.cwd : undefined;
  const cmd = state.enqueue(session, { id: b.id, command, cwd, env: envOf(b.env), timeoutS });
  if (!wait) {
    // Never "completed" with wait=false [S:9997].
    sendJson(req.res, 200, { command_id: cmd.id, terminal_id: String(session.id), status: cmd.status === 'queued' ? 'queued' : 'running' });
    return;
  }
  await cmd.done;
  sendJson(req.res, 200, result(req.core, cmd));
}

function getResult(req: Req, p: Params): void {
  sendJson(req.res, 200, result(req.core, req.state.command(p.id as string)));
}

/** `POST /execute/{id}/abort {force?}` [R:61445-61490]. */
async function abort(req: Req, p: Params): Promise<void> {
  const { core, state } = req;
  const cmd = state.command(p.id as string);
  const force = (await req.json()).force === true;
  if (cmd.status !== 'queued' && cmd.status !== 'running') {
    // Idempotent: aborting a finished command → 409 with the existing result.
    sendJson(req.res, 409, { statusCode: 409, error: 'Conflict', message: 'Command already finished', ...result(core, cmd) });
    return;
  }
  if (cmd.status === 'queued') state.dequeue(cmd);
  else {
    // Graceful = SIGINT (Ctrl+C), force = SIGKILL to the process group.
    state.abortCommand(cmd, force ? 'SIGKILL' : 'SIGINT');
    await Promise.race([cmd.done, core.wait(core.opts.abortGraceMs)]);
    if (cmd.status === 'running') {
      // A program trapping SIGINT survives a graceful abort ("use force=true" [R:61447]).
      cmd.aborted = false;
      const message = 'SIGINT sent but the process is still running; retry with force:true';
      sendJson(req.res, 200, withOutput(core, { command_id: cmd.id, status: 'running', exit_code: null, message }, cmd.output));
      return;
    }
  }
  sendJson(req.res, 200, withOutput(core, { command_id: cmd.id, status: 'aborted', exit_code: null }, cmd.output));
}

/* ------------------------------------------------------------------ input */

/** `POST /write?terminal_id=N {input, enter?=true}` [R:61493-61590]. */
async function write(req: Req): Promise<void> {
  const { state } = req;
  const s = state.session(parseTerminalId(req.query, true) as number);
  const b = await req.json();
  if (typeof b.input !== 'string') throw new KitError(400, "Missing 'input' field");
  const cmd = state.runningCommand(s);
  const data = b.input + (b.enter === false ? '' : '\n');
  state.feed(cmd, data);
  state.touch(s);
  sendJson(req.res, 200, { status: 'ok', bytes_written: Buffer.byteLength(data) });
}

/** `POST /press?terminal_id=N {keys[]|key}`: all keys validated first [R:60990]. */
async function press(req: Req): Promise<void> {
  const { state } = req;
  const s = state.session(parseTerminalId(req.query, true) as number);
  const b = await req.json();
  const hasKeys = b.keys !== undefined;
  if (hasKeys === (b.key !== undefined)) throw new KitError(400, "Exactly one of 'keys' or 'key' is required");
  const names = hasKeys ? b.keys : [b.key];
  if (!Array.isArray(names) || names.length === 0 || names.length > 256 || !names.every((k): k is string => typeof k === 'string')) {
    throw new KitError(400, 'Unknown key name or invalid request');
  }
  const actions = names.map((n) => ({ n, a: keyAction(n) }));
  const bad = actions.find((x) => !x.a);
  if (bad) throw new KitError(400, `Unknown key name or invalid request: ${bad.n}`);
  const cmd = state.runningCommand(s);
  let bytes = 0;
  for (const { a } of actions) {
    if (!a) continue;
    if ('bytes' in a) {
      state.feed(cmd, a.bytes);
      bytes += Buffer.byteLength(a.bytes);
    } else {
      if ('signal' in a) state.signal(cmd, a.signal);
      else state.feed(cmd, null);
      bytes += 1;
    }
  }
  state.touch(s);
  sendJson(req.res, 200, { terminal_id: s.id, keys_pressed: names.length, bytes_written: bytes });
}

/* ------------------------------------------------------------------ sessions */

/** The X display `body.display` names (`"5"` or `":5"`, 1-999999), started unless it runs. */
async function ensureDisplay(core: SimCore, containerId: string, b: Record<string, unknown>, ephemeral: boolean): Promise<XServer | undefined> {
  if (b.display === undefined || b.display === null || b.display === '' || ephemeral) return undefined;
  const m = /^:?(\d{1,6})$/.exec(String(b.display));
  const n = m ? Number(m[1]) : 0;
  if (n < 1 || n > MAX_DISPLAY_ID) throw new KitError(400, 'display must be a display number from 1 to 999999');
  const env = typeof b.desktop_env === 'string' && b.desktop_env ? b.desktop_env : undefined;
  if (env && !['xfce', 'mate'].includes(env)) throw new KitError(400, 'desktop_env must be xfce or mate');
  return displaysOf(core).ensure(containerId, n, { desktopEnv: env });
}

/** `POST /create` — idempotent [R:62278]; response per `quirks.createShape` (§8 #4). */
async function create(req: Req): Promise<void> {
  const { state, query: q } = req;
  const b = await req.json();
  const ephemeral = b.ephemeral === true;
  const rawId = b.terminal_id ?? q.get('terminal_id') ?? undefined;
  const given = rawId !== undefined && rawId !== null && String(rawId) !== '' && String(rawId) !== '0';
  const id = given ? parseId(rawId, 'terminal_id') : undefined;
  if (id === undefined && !ephemeral) throw new KitError(400, 'terminal_id is required');
  // `display` starts that X display (blocking until it answers) and sets DISPLAY for the session;
  // ephemeral sessions get none [S:9992].
  const x = await ensureDisplay(req.core, req.container.id, b, ephemeral);
  const session = await state.openSession(id ?? state.allocateEphemeral(), ephemeral, {
    cwd: typeof b.cwd === 'string' ? b.cwd : q.get('cwd') || undefined,
    cwdAutoCreate: flag(q, 'cwd_auto_create') || b.cwd_auto_create === true,
    user: typeof b.user === 'string' ? b.user : undefined,
    shell: typeof b.shell === 'string' ? b.shell : undefined,
    env: { ...envOf(b.env), ...(x ? { DISPLAY: `:${x.n}` } : {}) },
  }, false);
  const display = b.display === undefined || b.display === null ? undefined : String(b.display).replace(/^:?/, ':');
  if (req.core.quirks.createShape === 'reference') {
    sendJson(req.res, 200, { status: 'created', terminal_id: session.id, ...(display ? { display } : {}), shell: session.shell });
  } else {
    sendJson(req.res, 200, { status: 'ok', terminal_id: String(session.id), shell_ready: true, cwd: session.cwd });
  }
}

function sessions(req: Req): void {
  const q = req.query;
  const limit = Math.min(1000, Math.max(0, Number(q.get('history_limit') ?? q.get('history_lines') ?? 50) || 50));
  const list = [...req.state.sessions.values()].map((s) => ({
    id: s.id, shell: s.shell, cwd: s.cwd, started_at: s.startedAt, ephemeral: s.ephemeral, user: s.user,
    running: s.current !== undefined, command_history: s.history.slice(-limit),
  }));
  sendJson(req.res, 200, list); // a bare array [R:62228-62270]
}

function remove(req: Req, p: Params): void {
  const n = parseId(p.tid as string, 'terminal_id');
  req.state.destroySession(req.state.session(n));
  sendJson(req.res, 200, { status: 'deleted', terminal_id: n });
}

/** `GET /raw` — terminal_id defaults to "1", format defaults to download [R:62561-62600]. */
function raw(req: Req): void {
  const { core, query: q, res } = req;
  const id = q.get('terminal_id') && q.get('terminal_id') !== '0' ? Number(q.get('terminal_id')) : 1;
  const s = req.state.sessions.get(id);
  if (!s) return sendText(res, 404, 'Terminal session not found');
  let out = text(core, s.raw);
  const tail = Number(q.get('tail') ?? '');
  if (Number.isInteger(tail) && tail > 0) out = out.split(/\r?\n/).slice(-tail - (out.endsWith('\n') ? 1 : 0)).join(core.quirks.crlf === false ? '\n' : '\r\n');
  const format = q.get('format') ?? 'download';
  if (format === 'text') sendText(res, 200, out);
  else if (format === 'html') sendText(res, 200, `<pre>${out.replace(/[&<>]/g, (ch) => `&#${ch.charCodeAt(0)};`)}</pre>`, 'text/html; charset=utf-8');
  else sendText(res, 200, out, 'application/octet-stream', { 'Content-Disposition': `attachment; filename="terminal-${id}.log"` });
}

const T = '/api/v1/terminal';
const ROUTES: Route<Req>[] = [
  { method: 'POST', pattern: `${T}/execute`, handler: execute },
  { method: 'GET', pattern: `${T}/result/:id`, handler: getResult },
  { method: 'POST', pattern: `${T}/execute/:id/abort`, handler: abort },
  { method: 'POST', pattern: `${T}/write`, handler: write },
  { method: 'POST', pattern: `${T}/press`, handler: press },
  { method: 'GET', pattern: `${T}/keys`, handler: (req) => sendJson(req.res, 200, { keys: KEY_NAMES }) },
  { method: 'POST', pattern: `${T}/create`, handler: create },
  { method: 'GET', pattern: `${T}/sessions`, handler: sessions },
  { method: 'GET', pattern: `${T}/raw`, handler: raw },
  { method: 'DELETE', pattern: `${T}/:tid`, handler: remove },
];

export function createTerminalKit(core: SimCore): KitRuntime {
  return createKit(core, {
    slug: 'terminal',
    service: 'hoody-terminal',
    state: (c) => new TerminalState(core, c),
    routes: ROUTES,
    errors: {
      body: (e) => ({ statusCode: e.status, error: reason(e.status), message: e.message, ...e.fields }),
      badJson: () => new KitError(400, 'Invalid JSON body'),
      fromThrown: () => new KitError(500, 'Command execution failed'),
    },
  });
}
