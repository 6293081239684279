/**
 * daemon kit client (seed-kits-exec-files.md §5): supervised programs and quick-start one-offs,
 * seen as one list of services. Failures come as `{success:false, error}` bodies whatever the
 * status [S:5360], so `success` is checked too; status casing differs (`running`/`RUNNING`, §8 #29)
 * and is lower-cased. A quick-start entry is reaped when it exits or stops, and its logs endpoint
 * then 404s [S:5352]: logs are captured before a stop, and read from the on-disk files
 * (`/hoody/storage/hoody-daemon/logs/<name>/`) through the files kit after a reap.
 */
import { HoodyError } from '../errors.js';
import { readJson } from '../http.js';
import { Lru } from '../lru.js';
import type { FilesKit } from './files.js';
import type { Kits } from '../kits.js';

const D = '/api/v1/daemon';
const LOG_BASE = '/hoody/storage/hoody-daemon/logs';
const TAIL_BYTES = 1024 * 1024;
const QUICK = /^quick_[A-Za-z0-9_]{1,80}$/;
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface Service {
  /** `quick_…` for a one-off, the numeric program id for a registered program. */
  id: string;
  name: string;
  kind: 'quick' | 'program';
  status: string;
  pid?: number;
  command?: string;
  expiresAt?: string;
}

export interface StartOptions {
  command: string;
  name?: string;
  user?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Registered program, restarted when it exits and at container boot; else a quick-start one-off. */
  restart?: boolean;
  ttlS?: number;
}

export interface Logs {
  service: string;
  name: string;
  stream: 'stdout' | 'stderr';
  text: string;
  /** Where the text came from: the kit, a capture made before the entry was reaped, or the on-disk file. */
  from: 'kit' | 'captured' | 'file';
}

type Body = { success?: boolean; error?: string; message?: string } & Record<string, unknown>;

function lower(v: unknown): string {
  if (v && typeof v === 'object') return lower((v as { status?: unknown }).status);
  return typeof v === 'string' ? v.toLowerCase() : 'unknown';
}

export class DaemonKit {
  /** Per container + service id: its name (for the on-disk logs) and logs captured before a stop. */
  readonly #known = new Lru<{ name: string; captured?: Partial<Record<'stdout' | 'stderr', string>> }>(1000);

  constructor(
    private readonly kits: Kits,
    private readonly files: () => FilesKit,
  ) {}

  async #call(containerId: string, method: string, path: string, opts: { query?: Record<string, unknown>; body?: unknown; signal?: AbortSignal; idempotent?: boolean } = {}): Promise<Body> {
    const res = await this.kits.request(containerId, 'daemon', { method, path: `${D}${path}`, timeoutMs: 30_000, ...opts });
    const body = (await readJson<Body>(res, 'daemon')) ?? {};
    if (body.success === false) {
      const msg = String(body.error ?? body.message ?? 'the daemon kit refused the request');
      throw new HoodyError({ kind: /not found/i.test(msg) ? 'not_found' : 'bad_request', status: res.status, source: 'daemon', message: msg });
    }
    return body;
  }

  #remember(containerId: string, id: string, name: string) {
    const key = `${containerId}/${id}`;
    this.#known.set(key, { ...this.#known.get(key), name });
  }

  async start(containerId: string, o: StartOptions, signal?: AbortSignal): Promise<Service> {
    checkStart(o);
    const base = { command: o.command, user: o.user ?? 'user', ...(o.cwd ? { directory: o.cwd } : {}), ...(o.env ? { environment: o.env } : {}) };
    if (!o.restart) {
      const b = await this.#call(containerId, 'POST', '/quick-start', { body: { ...base, ...(o.name ? { name: o.name } : {}), ...(o.ttlS ? { ttl: o.ttlS } : {}), autorestart: 'false' }, signal, idempotent: false });
      const id = String(b.temporary_id);
      const name = String(b.name ?? o.name ?? id);
      this.#remember(containerId, id, name);
      return { id, name, kind: 'quick', status: lower(b.status), pid: b.pid as number | undefined, expiresAt: b.expires_at as string | undefined };
    }
    const name = o.name ?? `svc-${Date.now().toString(36)}`;
    const added = await this.#call(containerId, 'POST', '/programs/add', { body: { ...base, name, enabled: true, boot: true, autorestart: 'true' }, signal, idempotent: false });
    const id = String(added.id ?? (added.program as { id?: unknown } | undefined)?.id);
    this.#remember(containerId, id, name);
    const started = await this.#call(containerId, 'POST', `/programs/${id}/start`, { body: { wait: false, if_not_running: true }, signal, idempotent: true });
    return { id, name, kind: 'program', status: lower(started.status ?? 'starting') };
  }

  async list(containerId: string, signal?: AbortSignal): Promise<Service[]> {
    const [programs, quick] = await Promise.all([
      this.#call(containerId, 'GET', '/programs', { query: { include_status: 'true' }, signal }),
      this.#call(containerId, 'GET', '/quick-start', { signal }),
    ]);
    const out: Service[] = [];
    for (const p of (programs.programs as Record<string, unknown>[] | undefined) ?? []) {
      const st = p.status as { status?: unknown; pid?: number } | undefined;
      out.push({ id: String(p.id), name: String(p.name), kind: 'program', status: lower(st ?? 'stopped'), pid: st?.pid, command: p.command as string });
    }
    for (const q of (quick.ephemeral_programs as Record<string, unknown>[] | undefined) ?? []) {
      out.push({ id: String(q.temporary_id), name: String(q.name), kind: 'quick', status: lower(q.status), pid: q.pid as number | undefined, command: q.command as string, expiresAt: q.expires_at as string | undefined });
    }
    for (const s of out) this.#remember(containerId, s.id, s.name);
    return out;
  }

  /** A service by id (`quick_…`, a program number) or name; undefined when the kit no longer has it. */
  async find(containerId: string, ref: string, signal?: AbortSignal): Promise<Service | undefined> {
    const all = await this.list(containerId, signal);
    return all.find((s) => s.id === ref) ?? all.find((s) => s.name === ref);
  }

  async status(containerId: string, s: Pick<Service, 'id' | 'kind'>, signal?: AbortSignal): Promise<string> {
    try {
      const b = s.kind === 'quick'
        ? await this.#call(containerId, 'GET', `/quick-start/${encodeURIComponent(s.id)}/status`, { signal })
        : await this.#call(containerId, 'GET', `/status/${encodeURIComponent(s.id)}`, { signal });
      return lower(b.status);
    } catch (e) {
      if (e instanceof HoodyError && e.kind === 'not_found' && s.kind === 'quick') return 'exited';
      throw e;
    }
  }

  /** The last `lines` lines of a service's log; after a quick-start was reaped, what was captured or the file on disk. */
  async logs(containerId: string, ref: string, stream: 'stdout' | 'stderr', lines: number, signal?: AbortSignal): Promise<Logs> {
    const known = this.#known.get(`${containerId}/${ref}`);
    const path = QUICK.test(ref) ? `/quick-start/${encodeURIComponent(ref)}/logs` : /^\d+$/.test(ref) ? `/programs/${ref}/logs` : undefined;
    if (path) {
      try {
        const b = await this.#call(containerId, 'GET', path, { query: { type: stream, lines }, signal });
        return { service: ref, name: known?.name ?? ref, stream, text: String(b.logs ?? ''), from: 'kit' };
      } catch (e) {
        if (!(e instanceof HoodyError && e.kind === 'not_found' && QUICK.test(ref))) throw e;
      }
    }
    let name = known?.name;
    if (!name) {
      const s = await this.find(containerId, ref, signal);
      if (s) return this.logs(containerId, s.id, stream, lines, signal);
      if (!SERVICE_NAME.test(ref) || QUICK.test(ref)) throw new HoodyError({ kind: 'not_found', source: 'daemon', message: `no service "${ref}"`, next: { code: 'list_services' } });
      name = ref; // a reaped one-off by name: its files are still on disk
    }
    // The file on disk is the whole story; what was captured before a stop stands in if it cannot be read.
    const captured = known?.captured?.[stream];
    try {
      return { service: ref, name, stream, text: await this.#fileTail(containerId, name, stream, lines, signal), from: 'file' };
    } catch (e) {
      if (captured === undefined) throw e;
      return { service: ref, name, stream, text: tailLines(captured, lines), from: 'captured' };
    }
  }

  async #fileTail(containerId: string, name: string, stream: 'stdout' | 'stderr', lines: number, signal?: AbortSignal): Promise<string> {
    try {
      // Only the end matters: keep the last MiB of a stream however long the log is.
      const { stream: body } = await this.files().download(containerId, `${LOG_BASE}/${name}/${stream}.log`, signal);
      let tail = Buffer.alloc(0);
      for await (const chunk of body) {
        tail = Buffer.concat([tail, chunk as Buffer]);
        if (tail.length > 2 * TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
      }
      return tailLines(tail.subarray(Math.max(0, tail.length - TAIL_BYTES)).toString('utf8'), lines);
    } catch (e) {
      if (e instanceof HoodyError && e.kind === 'not_found') throw new HoodyError({ kind: 'not_found', source: 'daemon', message: `no service "${name}" and no logs of one`, next: { code: 'list_services' } });
      throw e;
    }
  }

  /** Stops a service (capturing a one-off's logs first: its entry is reaped); `remove` deletes a program. */
  async stop(containerId: string, s: Service, remove: boolean, signal?: AbortSignal): Promise<void> {
    if (s.kind === 'quick') {
      const captured: Partial<Record<'stdout' | 'stderr', string>> = {};
      for (const stream of ['stdout', 'stderr'] as const) {
        captured[stream] = await this.logs(containerId, s.id, stream, 10_000, signal).then((l) => l.text, () => undefined);
      }
      this.#known.set(`${containerId}/${s.id}`, { name: s.name, captured });
      await this.#call(containerId, 'POST', `/quick-start/${encodeURIComponent(s.id)}/stop`, { signal, idempotent: true });
      return;
    }
    await this.#call(containerId, 'POST', `/programs/${encodeURIComponent(s.id)}/stop`, { body: {}, signal, idempotent: true });
    if (remove) await this.#call(containerId, 'POST', `/programs/remove/${encodeURIComponent(s.id)}`, { signal, idempotent: true });
  }
}

export function tailLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n).join('\n');
}

const bad = (message: string) => new HoodyError({ kind: 'bad_request', source: 'daemon', message });

/** What the kit would refuse, said before asking it [S:5360]. */
function checkStart(o: StartOptions): void {
  if (o.command.length > 65_536) throw bad('command is over 65,536 characters: write a script file and run it');
  if (/[\r\n\0]/.test(o.command)) throw bad('command must be one line (no newlines or NUL): join steps with ; or &&, or write a script file and run it');
  if (o.name !== undefined && !SERVICE_NAME.test(o.name)) throw bad('name: 1-64 characters A-Z a-z 0-9 _ . - (starting with a letter or digit)');
  if (o.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(o.user)) throw bad('user must be a system account name such as user or root');
  if (o.cwd !== undefined && (!o.cwd.startsWith('/') || o.cwd.includes('\0'))) throw bad('cwd must be an absolute path');
  for (const k of Object.keys(o.env ?? {})) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw bad(`env: "${k.slice(0, 40)}" is not a variable name`);
}
