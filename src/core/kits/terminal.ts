/**
 * terminal kit client (seed-kits-exec-files.md §1): /execute, /result, abort, write, press, sessions.
 * Output is PTY output: stdout and stderr merged, CRLF line ends, maybe ANSI escapes, and the
 * field is `stdout` [S:10045] or `output` [R:61420] — both are read.
 */
import { HoodyError, isAmbiguous } from '../errors.js';
import { readJson } from '../http.js';
import { containerPath } from './files.js';
import type { Kits } from '../kits.js';

/** The pinned terminal ids exec's jobs run in (pinned ids are 1–39999; 40000–65535 are ephemeral [S:9960]). */
export const JOB_TERMINAL_IDS = { min: 20_000, max: 39_999 } as const;

export type CommandStatus = 'queued' | 'running' | 'completed' | 'aborted' | 'timeout' | string;

export interface CommandResult {
  commandId: string;
  terminalId?: string;
  status: CommandStatus;
  exitCode: number | null;
  output: string;
}

interface RawResult {
  command_id?: string | number;
  terminal_id?: string | number;
  status?: string;
  exit_code?: number | null;
  stdout?: string;
  output?: string;
}

// CSI, OSC and single-char escapes a PTY emits; the agent reads plain text.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** PTY text → plain text: strip escapes, CRLF → LF, and a line rewritten with \r keeps its last state. */
export function cleanPtyText(s: string): string {
  return s
    .replace(ANSI, '')
    .replace(/\r+\n/g, '\n')
    .split('\n')
    .map((line) => (line.includes('\r') ? line.slice(line.lastIndexOf('\r') + 1) : line))
    .join('\n');
}

function toResult(r: RawResult | undefined, fallbackId?: string): CommandResult {
  const raw = r?.stdout ?? r?.output ?? '';
  return {
    commandId: String(r?.command_id ?? fallbackId ?? ''),
    terminalId: r?.terminal_id !== undefined ? String(r.terminal_id) : undefined,
    status: r?.status ?? 'running',
    exitCode: typeof r?.exit_code === 'number' ? r.exit_code : null,
    output: cleanPtyText(raw),
  };
}

/** Key names as users write them (`Enter`, `Ctrl+C`, `PageUp`) → the kit's names (`enter`, `ctrl+c`, `page_up`). */
export function kitKeyName(key: string): string {
  const k = key.trim();
  if (k.length === 1) return k;
  const parts = k.split('+').map((p) => p.trim().toLowerCase());
  const map: Record<string, string> = {
    return: 'enter', esc: 'escape', backspace: 'bs', delete: 'del', pageup: 'page_up', pagedown: 'page_down',
    arrowup: 'up', arrowdown: 'down', arrowleft: 'left', arrowright: 'right', space: ' ', control: 'ctrl', ins: 'insert',
  };
  return parts.map((p) => map[p.replace(/[\s_-]/g, '')] ?? p).join('+');
}

export class TerminalKit {
  constructor(private readonly kits: Kits) {}

  private get source() {
    return 'terminal';
  }

  /** Start a command in pinned session `terminalId` without waiting. `id` lets a lost answer be checked. */
  async start(
    containerId: string,
    opts: { terminalId: number; commandId: number; command: string; cwd?: string; user?: string; env?: Record<string, string>; timeoutS?: number },
    signal?: AbortSignal,
  ): Promise<CommandResult> {
    try {
      return await this.#start(containerId, opts, signal);
    } catch (err) {
      // The answer was lost but the command may have started: then follow it rather than fail
      // (a caller retrying would run it twice).
      if (err instanceof HoodyError && isAmbiguous(err)) {
        const r = await this.resultOrUndefined(containerId, String(opts.commandId), signal).catch(() => undefined);
        if (r) return r;
      }
      throw err;
    }
  }

  async #start(
    containerId: string,
    opts: { terminalId: number; commandId: number; command: string; cwd?: string; user?: string; env?: Record<string, string>; timeoutS?: number },
    signal?: AbortSignal,
  ): Promise<CommandResult> {
    const res = await this.kits.request(containerId, 'terminal', {
      method: 'POST',
      path: '/api/v1/terminal/execute',
      // `terminal_id` must be in the query [S:9995]; `wait` is sent in both places [S:10036].
      query: {
        terminal_id: opts.terminalId,
        wait: 'false',
        // No cwd_auto_create: a mistyped directory is an error, not a new empty directory.
        cwd: opts.cwd !== undefined ? containerPath(opts.cwd) : undefined,
        user: opts.user,
        env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
      },
      body: { command: opts.command, id: String(opts.commandId), wait: false, timeout: opts.timeoutS ?? 0, ...(opts.env ? { env: opts.env } : {}) },
      idempotent: false,
      // A lost answer is only re-sent once the kit confirms this command id never started.
      verifyNotStarted: async () => (await this.resultOrUndefined(containerId, String(opts.commandId), signal)) === undefined,
      signal,
      timeoutMs: 30_000,
    });
    return toResult(await readJson<RawResult>(res, this.source), String(opts.commandId));
  }

  async result(containerId: string, commandId: string, signal?: AbortSignal): Promise<CommandResult> {
    const res = await this.kits.request(containerId, 'terminal', {
      method: 'GET',
      path: `/api/v1/terminal/result/${encodeURIComponent(commandId)}`,
      signal,
      timeoutMs: 30_000,
    });
    return toResult(await readJson<RawResult>(res, this.source), commandId);
  }

  async resultOrUndefined(containerId: string, commandId: string, signal?: AbortSignal): Promise<CommandResult | undefined> {
    try {
      return await this.result(containerId, commandId, signal);
    } catch (err) {
      if (err instanceof HoodyError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  /** SIGINT (or SIGKILL with force). Aborting a finished command is 409 with the existing result [R:61447]. */
  async abort(containerId: string, commandId: string, force: boolean, signal?: AbortSignal): Promise<CommandResult> {
    const res = await this.kits.request(containerId, 'terminal', {
      method: 'POST',
      path: `/api/v1/terminal/execute/${encodeURIComponent(commandId)}/abort`,
      body: { force },
      idempotent: true,
      signal,
      timeoutMs: 30_000,
    });
    if (res.status === 409) {
      const text = await res.body.text();
      try {
        const body = JSON.parse(text) as RawResult & { result?: RawResult };
        if (body.status || body.result) return toResult(body.result ?? body, commandId);
      } catch {
        /* fall through to a fresh read */
      }
      return this.result(containerId, commandId, signal);
    }
    return toResult(await readJson<RawResult>(res, this.source), commandId);
  }

  /** Type text into the session; `enter` adds Enter. 409 NO_PROCESS when nothing runs [R:61493]. */
  async write(containerId: string, terminalId: string, input: string, enter: boolean, signal?: AbortSignal): Promise<number> {
    const res = await this.kits.request(containerId, 'terminal', {
      method: 'POST',
      path: '/api/v1/terminal/write',
      query: { terminal_id: terminalId },
      body: { input, enter },
      idempotent: false,
      signal,
    });
    const body = await readJson<{ bytes_written?: number }>(res, this.source);
    return body?.bytes_written ?? Buffer.byteLength(input);
  }

  async press(containerId: string, terminalId: string, keys: string[], signal?: AbortSignal): Promise<number> {
    const res = await this.kits.request(containerId, 'terminal', {
      method: 'POST',
      path: '/api/v1/terminal/press',
      query: { terminal_id: terminalId },
      body: { keys: keys.map(kitKeyName) },
      idempotent: false,
      signal,
    });
    const body = await readJson<{ keys_pressed?: number }>(res, this.source);
    return body?.keys_pressed ?? keys.length;
  }

  /** Ids of live sessions (the kit answers a bare array [R:62228]). */
  async sessionIds(containerId: string, signal?: AbortSignal): Promise<Set<string>> {
    // Only ids are wanted: keep each session's command history out of the answer.
    const res = await this.kits.request(containerId, 'terminal', { method: 'GET', path: '/api/v1/terminal/sessions', query: { history_limit: 1 }, signal });
    const body = await readJson<unknown>(res, this.source);
    const list = Array.isArray(body) ? body : ((body as { sessions?: unknown[] })?.sessions ?? []);
    return new Set(list.map((s) => String((s as { id?: unknown; terminal_id?: unknown }).id ?? (s as { terminal_id?: unknown }).terminal_id)));
  }
}
