/**
 * Commands as jobs on the terminal kit.
 *
 * Each job runs in a fresh pinned session (terminal ids 20000–39999, never reused while alive:
 * two programs in one session interleave [S:9910]); ephemeral sessions are not used because they
 * die at 300 s [S:10063]. The handle `"<terminal_id>-<command_id>"` resolves without server state,
 * so any instance (stdio or one HTTP request) can poll it. Finished results are kept here for
 * at least an hour, since the kit forgets them once the session is reaped [S:9964].
 */
import { randomInt } from 'node:crypto';
import { HoodyError } from './errors.js';
import { Lru } from './lru.js';
import { sleep } from './http.js';
import { poll } from './streams.js';
import { Cursors, inBackground, orLocal } from './fallback.js';
import type { Shared } from './shared.js';
import { JOB_TERMINAL_IDS, type CommandResult, type TerminalKit } from './kits/terminal.js';

export interface JobState extends CommandResult {
  job: string;
  done: boolean;
}

export interface JobProgress extends JobState {
  /** Output new since the previous update (updates, follow), or not shown to this caller before (cancel). */
  fresh: string;
}

export interface JobUpdate extends JobProgress {
  /** Where the output not yet shown to this caller in a result starts. */
  shownFrom: number;
}

export interface CommandOptions {
  command: string;
  cwd?: string;
  user?: string;
  env?: Record<string, string>;
  timeoutS?: number;
}

export interface WaitOptions {
  /** Follow the job (epoch ms) until it finishes or this passes; omitted or past: its state now. */
  until?: number;
  signal?: AbortSignal;
}

const FINISHED = new Set(['completed', 'aborted', 'timeout', 'failed', 'killed', 'error']);
const KEEP_MS = 2 * 60 * 60_000;
const MAX_KEPT = 500;
const MAX_KEPT_OUTPUT = 4 * 1024 * 1024;
/** A pinned session lives until 300 s after its program ends [S:9964]; a margin over that. */
const SESSION_REAP_MS = 15 * 60_000;

export function parseJob(job: string): { terminalId: string; commandId: string } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(job.trim());
  if (!m) {
    throw new HoodyError({ kind: 'bad_request', source: 'exec', message: `"${job}" is not a job handle (like "23817-4410")`, next: { code: 'pass_job' } });
  }
  return { terminalId: m[1]!, commandId: m[2]! };
}

/** The last of a job's updates, as a result: `fresh` is all the output the caller had not been shown. */
async function asResult(updates: AsyncIterable<JobUpdate>): Promise<JobUpdate> {
  let last: JobUpdate | undefined;
  for await (const u of updates) last = u;
  return { ...last!, fresh: last!.output.slice(last!.shownFrom) };
}

export class Jobs {
  readonly #kept = new Lru<{ state: JobState; at: number }>(MAX_KEPT);
  readonly #reserved = new Set<string>();
  /** Sessions this instance started lately (container:terminal id → when): not reused while they may live. */
  readonly #used = new Lru<number>(5000);
  /** Jobs handed out as running, watched in the background until they finish (see `track`). */
  readonly #tracked = new Set<string>();
  /**
   * When each state was read from the kit: a job is next read one poll interval after the kit's
   * answer, so what this server does with an answer (and the caller's setting up of its wait)
   * overlaps the interval instead of adding to it.
   */
  readonly #readAt = new WeakMap<JobState, number>();
  /**
   * How much of each job's output a caller has already been shown (so a status shows only what
   * is new). With a shared store it is kept there too (`job-seen:`), so a status through another
   * replica continues where this one stopped: the larger of the two counts.
   */
  readonly #seen: Cursors;

  /** `shared`: this credential's part of the store the replicas share (--redis): finished jobs are kept there too. */
  constructor(
    private readonly terminal: TerminalKit,
    private readonly shared?: Shared,
  ) {
    this.#seen = new Cursors(shared, 'job-seen', KEEP_MS, MAX_KEPT * 4);
  }

  /**
   * Start a command in a fresh pinned session. No session listing first: a random id among 20,000
   * (never one this instance used lately) is almost always free, and the kit's answer tells when
   * it was not — a command "queued" behind another session's program is taken back (aborted
   * before it ran) and started again under another id.
   */
  async start(containerId: string, opts: CommandOptions, signal?: AbortSignal): Promise<JobState> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const terminalId = this.#freeTerminalId(containerId);
      const key = `${containerId}:${terminalId}`;
      this.#reserved.add(key);
      this.#used.set(key, Date.now());
      try {
        const commandId = randomInt(1, 65536);
        const r = await this.terminal.start(containerId, { ...opts, terminalId, commandId }, signal);
        const id = r.commandId || String(commandId);
        if (r.status !== 'queued') return this.#state(`${terminalId}-${id}`, r);
        await this.terminal.abort(containerId, id, true, signal).catch(() => undefined);
      } finally {
        this.#reserved.delete(key);
      }
    }
    throw new HoodyError({ kind: 'server', source: 'terminal', message: 'no free terminal session: every id tried was busy', next: { code: 'retry_later' } });
  }

  #freeTerminalId(containerId: string): number {
    for (let i = 0; i < 50; i++) {
      const t = randomInt(JOB_TERMINAL_IDS.min, JOB_TERMINAL_IDS.max + 1);
      const key = `${containerId}:${t}`;
      const usedAt = this.#used.get(key);
      if (!this.#reserved.has(key) && !(usedAt && Date.now() - usedAt < SESSION_REAP_MS)) return t;
    }
    throw new HoodyError({ kind: 'server', source: 'terminal', message: 'no free terminal session id', next: { code: 'retry_later' } });
  }

  /** A job's state from the kit's answer, just read: when (performance.now()) is remembered for its follow-up read. */
  #state(job: string, r: CommandResult): JobState {
    const state = { ...r, job, done: FINISHED.has(r.status) };
    this.#readAt.set(state, performance.now());
    return state;
  }

  #keyOf(containerId: string, job: string) {
    return `${containerId}/${job}`;
  }

  #keep(containerId: string, state: JobState) {
    if (!state.done) return;
    const output = state.output.length > MAX_KEPT_OUTPUT ? state.output.slice(-MAX_KEPT_OUTPUT) : state.output;
    const kept = { state: { ...state, output }, at: Date.now() };
    const key = this.#keyOf(containerId, state.job);
    this.#kept.set(key, kept);
    // Any replica may be asked for it once the kit has forgotten it.
    inBackground(this.shared, (s) => s.set(`job:${key}`, kept, KEEP_MS));
  }

  /** A finished job another replica kept (the kit has forgotten it), now kept here too. */
  async #sharedState(containerId: string, job: string): Promise<JobState | undefined> {
    const key = this.#keyOf(containerId, job);
    const kept = await orLocal(this.shared, (s) => s.get<{ state: JobState; at: number }>(`job:${key}`), () => undefined);
    if (!kept?.state?.done || typeof kept.state.output !== 'string' || Date.now() - kept.at >= KEEP_MS) return undefined;
    this.#kept.set(key, kept);
    return kept.state;
  }

  /** A finished job's state kept here, while it is younger than KEEP_MS. */
  #keptState(containerId: string, job: string): JobState | undefined {
    const kept = this.#kept.get(this.#keyOf(containerId, job));
    return kept && Date.now() - kept.at < KEEP_MS ? kept.state : undefined;
  }

  /** Count `length` characters of the job at `key` as shown to this caller (and tell the other replicas, without waiting). */
  #markSeen(key: string, length: number, before: number): void {
    this.#seen.set(key, length);
    if (length > before) this.#seen.share(key);
  }

  /** The state with the output not yet shown to this principal as `fresh`; from now on it counts as shown. */
  async #shown(containerId: string, state: JobState): Promise<JobUpdate> {
    const key = this.#keyOf(containerId, state.job);
    const seen = (this.shared ? await this.#seen.latest(key) : this.#seen.get(key)) ?? 0;
    const from = Math.min(seen, state.output.length);
    this.#markSeen(key, state.output.length, seen);
    return { ...state, fresh: state.output.slice(from), shownFrom: from };
  }

  /**
   * A job's updates, for a caller that waits on it: first its state now (`fresh` = the output
   * this caller has not been shown), then each new piece of output (`fresh` = new since the
   * previous update) until it finishes or `until` passes. `shownFrom` says where this caller's
   * unseen output starts. When the updates end, what they carried counts as shown, and a job
   * still running is watched in the background so its result outlives the kit's memory.
   */
  async *updates(containerId: string, from: string | JobState, wait: WaitOptions = {}): AsyncGenerator<JobUpdate> {
    // A job started here has been shown to nobody; one named by its handle may have been, through another replica.
    let elsewhere: Promise<unknown> | undefined;
    if (typeof from === 'string' && this.shared) {
      parseJob(from); // a bad handle is refused before it names a key
      elsewhere = this.#seen.latest(this.#keyOf(containerId, from));
    }
    const first = typeof from === 'string' ? await this.get(containerId, from, wait.signal) : from;
    const readAt = this.#readAt.get(first) ?? performance.now();
    await elsewhere;
    const key = this.#keyOf(containerId, first.job);
    const seen = this.#seen.get(key) ?? 0;
    const shownFrom = Math.min(seen, first.output.length);
    let last: JobUpdate = { ...first, fresh: first.output.slice(shownFrom), shownFrom };
    try {
      yield last;
      if (first.done || wait.until === undefined || wait.until <= Date.now()) return;
      for await (const u of this.follow(containerId, first.job, { until: wait.until, signal: wait.signal, seen: first.output.length, readAt })) {
        last = { ...u, shownFrom: Math.min(shownFrom, u.output.length) };
        yield last;
      }
    } finally {
      this.#markSeen(key, last.output.length, seen);
      if (!last.done) this.track(containerId, last.job);
    }
  }

  /** Start a command and follow it until `wait.until`: its state then (`fresh`: all its output so far). */
  async run(containerId: string, opts: CommandOptions, wait: WaitOptions = {}): Promise<JobUpdate> {
    return asResult(this.updates(containerId, await this.start(containerId, opts, wait.signal), wait));
  }

  /** A job's state after following it until `wait.until` (`fresh`: the output not shown before). */
  async status(containerId: string, job: string, wait: WaitOptions = {}): Promise<JobUpdate> {
    return asResult(this.updates(containerId, job, wait));
  }

  async get(containerId: string, job: string, signal?: AbortSignal): Promise<JobState> {
    const { commandId } = parseJob(job);
    const kept = this.#keptState(containerId, job);
    if (kept) return kept;
    const r = await this.terminal.resultOrUndefined(containerId, commandId, signal);
    if (!r) {
      const elsewhere = this.shared && (await this.#sharedState(containerId, job));
      if (elsewhere) return elsewhere;
      throw new HoodyError({
        kind: 'not_found',
        source: 'exec',
        message: `job ${job} is unknown in this container (or its result expired)`,
        hint: 'jobs are per container: check which container it ran in',
      });
    }
    const state = this.#state(job, r);
    this.#keep(containerId, state);
    return state;
  }

  /**
   * Poll a job until it finishes or `until` (epoch ms) passes, yielding whenever new output
   * appears. The last update is the state at return.
   */
  async *follow(
    containerId: string,
    job: string,
    opts: { until: number; signal?: AbortSignal; seen?: number; readAt?: number },
  ): AsyncGenerator<JobProgress> {
    let seen = opts.seen ?? 0;
    let interval = 20; // quick commands answer in tens of ms; back off to 1 s for long ones
    let quiet: JobProgress | undefined; // the last state with nothing new: yielded if it is the one at the deadline
    // The caller has read the job (or started it) at `readAt`, performance.now(): the first read
    // comes one interval after that answer, not one interval after the caller got round to this.
    let fresh = true;
    const states = poll({
      read: async (signal) => {
        if (fresh) {
          fresh = false;
          await sleep(Math.max(0, interval - (opts.readAt === undefined ? 0 : performance.now() - opts.readAt)), signal);
        }
        return this.get(containerId, job, signal);
      },
      // /result returns the whole output every time: poll a chatty job less often (1 s per MB,
      // at most 10 s) so a long build does not pull its log over and over.
      interval: (_n, state) => {
        const now = interval;
        interval = Math.max(Math.min(1000, Math.round(interval * 1.5)), Math.min(10_000, state.output.length / 1000));
        return now;
      },
      until: opts.until,
      signal: opts.signal,
      source: 'terminal',
    });
    for await (const state of states) {
      const fresh = state.output.length > seen ? state.output.slice(seen) : '';
      seen = Math.max(seen, state.output.length);
      quiet = fresh || state.done ? undefined : { ...state, fresh };
      if (!quiet) yield { ...state, fresh };
      if (state.done) return;
    }
    if (quiet) yield quiet;
  }

  /**
   * Keep a running job's result past the kit's memory: a pinned session and its results are
   * reaped 300 s after its program ends with nobody attached [S:9964], but a handle must stay
   * readable for an hour. Poll it in the background (1 s, doubling to 60 s) until it finishes.
   */
  track(containerId: string, job: string): void {
    const key = this.#keyOf(containerId, job);
    if (this.#tracked.has(key) || this.#keptState(containerId, job)) return;
    this.#tracked.add(key);
    const states = poll({
      // A failed read is tried again later; only "gone" or "done" ends the watch.
      read: () => this.get(containerId, job).catch((err: unknown) => (err instanceof HoodyError && err.kind === 'not_found' ? 'gone' : undefined)),
      interval: (n) => Math.min(60_000, 1000 * 2 ** n), // 1, 2, 4 … 60 s apart
      background: true,
      until: Date.now() + 24 * 3600_000,
    });
    void (async () => {
      try {
        for await (const state of states) if (state === 'gone' || state?.done) break;
      } finally {
        this.#tracked.delete(key);
      }
    })().catch(() => undefined);
  }

  /** Stop a job (SIGINT, or SIGKILL with force) and return its final state with the output not shown before. */
  async cancel(containerId: string, job: string, force: boolean, signal?: AbortSignal): Promise<JobUpdate> {
    return this.#shown(containerId, await this.#cancel(containerId, job, force, signal));
  }

  async #cancel(containerId: string, job: string, force: boolean, signal?: AbortSignal): Promise<JobState> {
    const { commandId } = parseJob(job);
    const kept = this.#keptState(containerId, job);
    if (kept) return kept;
    await this.terminal.abort(containerId, commandId, force, signal);
    // The abort answer may precede the process's exit: read until it is final (bounded).
    let state: JobState | undefined;
    for await (state of poll({ read: (s) => this.get(containerId, job, s), interval: () => 100, until: Date.now() + 5_000, signal, source: 'terminal' })) {
      if (state.done) break;
    }
    return state!;
  }

  async input(containerId: string, job: string, input: { text?: string; keys?: string[] }, signal?: AbortSignal): Promise<{ bytes?: number; keys?: number }> {
    const { terminalId } = parseJob(job);
    const out: { bytes?: number; keys?: number } = {};
    if (input.text !== undefined && input.text !== '') out.bytes = await this.terminal.write(containerId, terminalId, input.text, false, signal);
    if (input.keys?.length) out.keys = await this.terminal.press(containerId, terminalId, input.keys, signal);
    return out;
  }
}
