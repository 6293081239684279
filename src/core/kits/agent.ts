/**
 * The agent kit: the `hoody-agent-d` gateway on the `agent` slug, routes under `/api/v1/agent/*`
 * (seed-agent.md §3). Chosen over the workspaces kit (`workspaces` slug, `/api/v1/workspaces/*`)
 * because the gateway is the surface with the turn/gate semantics this toolset is built on
 * (one serial turn slot, `event.confirm_request` / `event.user_question` gates with
 * `gate_id`/`generation`, 409 `turn_in_flight`/`gate_parked`/`stale_gate`, an SSE stream with
 * int64 ids resumable by `Last-Event-ID`), and [G:78] calls itself the source of truth that
 * replaced the workspaces spec. The workspaces kit has no gate ids and no resumable turn stream.
 *
 * Every call carries the container claim and `X-Hoody-Token` (Kits.request adds them for this
 * slug only). Sessions are dispatched with `POST …/messages` (202 {job_id}) and observed on
 * `GET …/stream` (SSE), so a turn outlives any one connection or tool call [G:67], [G:80].
 */
import { HoodyError, kindForStatus, type NextStep } from '../errors.js';
import { header, parseRetryAfter, type HttpResponse } from '../http.js';
import type { Kits } from '../kits.js';
import { sse } from '../sse.js';
import { Cursors, inBackground, orLocal } from '../fallback.js';
import type { Shared } from '../shared.js';

/** How long a caller's place in a session is remembered across replicas. */
const CURSOR_KEEP_MS = 6 * 3600_000;
/** Events of a session kept in the shared store (as many as the kit's replay ring), each text clipped. */
const LOG_EVENTS = 1024;
const LOG_TEXT = 8 * 1024;

export type GateKind = 'confirm' | 'question';

export interface Gate {
  gate_id: string;
  generation: number;
  kind: GateKind;
  /** Question text (question gates). */
  question?: string;
  /** The command or action awaiting approval (confirm gates). */
  command?: string;
  tool?: string;
  options?: string[];
}

export type AgentEventKind = 'text' | 'tool_call' | 'tool_result' | 'gate' | 'done' | 'answer' | 'info' | 'lagged';

/** One turn event, normalised from the gateway's frames. */
export interface AgentEvent {
  seq: number;
  kind: AgentEventKind;
  /** text: the chunk; tool_call: the call; tool_result: its output; done: the final answer; answer: what was replied. */
  text: string;
  tool?: string;
  ok?: boolean;
  gate?: Gate;
  /** done: done | cancelled | error. */
  status?: string;
}

export type SessionState = 'idle' | 'running' | 'awaiting_answer' | 'awaiting_confirm';

export interface SessionSummary {
  id: string;
  state: SessionState;
  model?: string;
  cwd?: string;
  turns?: number;
  gate?: Gate;
  lastSeq?: number;
  updatedAt?: string;
}

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A session id as given by a caller: checked before it reaches a URL. */
export function sessionId(id: string): string {
  const s = id.trim();
  if (!SESSION_ID.test(s)) {
    throw new HoodyError({ kind: 'bad_request', source: 'agent', message: `"${id.slice(0, 80)}" is not an agent session id`, next: { code: 'list_sessions' } });
  }
  return s;
}

/** What to do after each documented gateway refusal [G:51], [G:67]. */
const NEXT: Record<string, NextStep> = {
  turn_in_flight: { code: 'wait_turn' },
  gate_parked: { code: 'answer_gate' },
  stale_gate: { code: 'reread_gate' },
  gate_already_answered: { code: 'reread_gate' },
  no_pending_gate: { code: 'reread_gate' },
  gate_type_mismatch: { code: 'reread_gate' },
};

/** The gateway's error body (undocumented: `{error:{code,message}}`, flat `{code,message}` or `{error:"…"}`) as a HoodyError. */
export async function agentError(res: HttpResponse): Promise<HoodyError> {
  const text = await res.body.text().catch(() => '');
  let code: string | undefined;
  let message: string | undefined;
  try {
    const b = JSON.parse(text) as Record<string, unknown>;
    const inner = (typeof b.error === 'object' && b.error ? b.error : b) as Record<string, unknown>;
    code = typeof inner.code === 'string' ? inner.code : typeof b.error === 'string' && /^[a-z_A-Z]+$/.test(b.error) ? b.error : undefined;
    message = typeof inner.message === 'string' ? inner.message : typeof b.error === 'string' ? b.error : undefined;
  } catch {
    /* not JSON: an HTML proxy page or empty */
  }
  const kind = kindForStatus(res.status);
  if (res.status === 503 && (code === 'SIGNING_NOT_CONFIGURED' || /signing/i.test(message ?? ''))) {
    return new HoodyError({
      kind: 'unavailable', status: 503, code, source: 'agent',
      message: 'this Hoody deployment cannot sign container claims (SIGNING_NOT_CONFIGURED), so its agent kit cannot be reached',
      hint: 'ask the Hoody operator to configure claim signing',
    });
  }
  const next = (code ? NEXT[code] : undefined) ?? (res.status === 404 ? ({ code: 'list_sessions' } as NextStep) : kind === 'unavailable' || kind === 'rate_limited' ? ({ code: 'retry_later' } as NextStep) : undefined);
  return new HoodyError({
    kind, status: res.status, code, source: 'agent',
    message: `the agent kit refused: ${code ? `${code}${message && message !== code ? ` (${message})` : ''}` : (message ?? `HTTP ${res.status}`)}`,
    retryAfterS: parseRetryAfter(res.headers['retry-after']),
    next,
  });
}

/** Claim minting and claim refusals, worded: 503 SIGNING_NOT_CONFIGURED [S:473], the kit's claim codes [S:931]. */
function claimError(err: unknown): unknown {
  if (!(err instanceof HoodyError)) return err;
  if (err.status === 503 && /SIGNING_NOT_CONFIGURED|signing/i.test(`${err.code} ${err.message}`)) {
    return new HoodyError({
      kind: 'unavailable', status: 503, code: 'SIGNING_NOT_CONFIGURED', source: err.source,
      message: 'this Hoody deployment cannot sign container claims (503 SIGNING_NOT_CONFIGURED), so the agent kit cannot be reached',
      hint: 'ask the Hoody operator to configure claim signing; other toolsets still work',
    });
  }
  if (err.source === 'agent' && (err.status === 401 || err.status === 403) && err.code) {
    const hint =
      err.code === 'BINDING_MISMATCH' || err.code === 'TOKEN_INVALID'
        ? 'the token does not own this container: use the token of its owner'
        : 'a fresh claim was minted and refused too: check the container belongs to this token, then retry';
    return new HoodyError({ kind: err.kind, status: err.status, code: err.code, source: 'agent', message: `the agent kit refused the container claim: ${err.code} (${err.message})`, hint });
  }
  return err;
}

async function json<T>(res: HttpResponse): Promise<T> {
  if (res.status >= 400) throw await agentError(res);
  const text = await res.body.text();
  if (!text.trim()) return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new HoodyError({ kind: 'server', source: 'agent', message: 'the agent kit answered with a body that is not JSON' });
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function toGate(d: Record<string, unknown>, kind: GateKind): Gate {
  const options = Array.isArray(d.options) ? d.options.map(str).filter(Boolean) : undefined;
  const params = (d.params ?? {}) as Record<string, unknown>;
  return {
    gate_id: str(d.gate_id),
    generation: Number(d.generation ?? 0),
    kind,
    question: typeof d.question === 'string' ? d.question : undefined,
    command: str(d.command ?? d.summary ?? params.command) || undefined,
    tool: typeof d.tool === 'string' ? d.tool : undefined,
    options: options?.length ? options : kind === 'confirm' ? ['approve', 'deny'] : undefined,
  };
}

/** A gateway frame (`event:` name + JSON data) as an AgentEvent; tolerant of the undocumented names [seed-agent §3.4]. */
export function toEvent(id: string | undefined, type: string | undefined, data: string): AgentEvent {
  let d: Record<string, unknown> = {};
  try {
    d = JSON.parse(data) as Record<string, unknown>;
  } catch {
    d = { text: data };
  }
  const name = (type && type !== 'message' ? type : str(d.method ?? d.type ?? d.event)).replace(/^event\./, '');
  const seq = Number(id ?? d.seq ?? 0);
  switch (name) {
    case 'text_delta':
    case 'text':
    case 'output_delta':
      return { seq, kind: 'text', text: str(d.text ?? d.delta) };
    case 'tool_call':
      return { seq, kind: 'tool_call', tool: str(d.tool), text: str(d.command ?? d.summary ?? d.params) };
    case 'tool_result':
      return { seq, kind: 'tool_result', tool: str(d.tool), ok: d.ok !== false, text: str(d.output ?? d.error) };
    case 'confirm_request':
      return { seq, kind: 'gate', gate: toGate(d, 'confirm'), text: str(d.command ?? d.summary) };
    case 'user_question':
      return { seq, kind: 'gate', gate: toGate(d, 'question'), text: str(d.question) };
    case 'user_answer':
    case 'confirm_answer':
      return { seq, kind: 'answer', text: str(d.answer ?? (d.approved === false ? 'denied' : d.approved === true ? 'approved' : '')) };
    case 'agent_done':
      return { seq, kind: 'done', status: str(d.status) || 'done', text: str(d.text ?? d.error) };
    case 'lagged':
      return { seq, kind: 'lagged', text: 'events were lost (replay_gap)' };
    default:
      return { seq, kind: 'info', text: name };
  }
}

function toSummary(d: Record<string, unknown>): SessionSummary {
  const pg = d.pending_gate as Record<string, unknown> | null | undefined;
  const gate = pg ? toGate(pg, pg.kind === 'question' ? 'question' : 'confirm') : undefined;
  const busy = d.state === 'running' || d.busy === true || d.turn_in_flight === true;
  return {
    id: str(d.id ?? d.session_id),
    state: gate ? (gate.kind === 'question' ? 'awaiting_answer' : 'awaiting_confirm') : busy ? 'running' : 'idle',
    model: typeof d.model === 'string' ? d.model : undefined,
    cwd: typeof d.cwd === 'string' ? d.cwd : undefined,
    turns: typeof d.turns === 'number' ? d.turns : undefined,
    gate,
    lastSeq: typeof d.last_seq === 'number' ? d.last_seq : undefined,
    updatedAt: typeof d.updated_at === 'string' ? d.updated_at : undefined,
  };
}

export class AgentKit {
  constructor(private readonly kits: Kits) {}

  async #req(c: string, method: string, path: string, opts: { body?: unknown; query?: Record<string, unknown>; signal?: AbortSignal; headers?: Record<string, string> } = {}) {
    try {
      // A dispatch or a gate answer is never re-sent blindly [DESIGN "Retries"].
      return await this.kits.request(c, 'agent', { method, path: `/api/v1/agent${path}`, ...opts, idempotent: method === 'GET' });
    } catch (err) {
      throw claimError(err);
    }
  }

  async create(c: string, opts: { model?: string; cwd?: string }, signal?: AbortSignal): Promise<string> {
    const body = await json<Record<string, unknown>>(await this.#req(c, 'POST', '/sessions', { body: { model: opts.model, cwd: opts.cwd }, signal }));
    const id = str(body.id ?? body.session_id ?? (body.data as Record<string, unknown> | undefined)?.id);
    if (!id) throw new HoodyError({ kind: 'server', source: 'agent', message: 'the agent kit returned no session id' });
    return id;
  }

  async list(c: string, signal?: AbortSignal): Promise<SessionSummary[]> {
    const body = await json<Record<string, unknown> | unknown[]>(await this.#req(c, 'GET', '/sessions', { query: { limit: 200 }, signal }));
    const items = Array.isArray(body) ? body : ((body.items ?? body.sessions ?? body.data ?? []) as unknown[]);
    return items.map((s) => toSummary(s as Record<string, unknown>));
  }

  async get(c: string, session: string, signal?: AbortSignal): Promise<SessionSummary> {
    return toSummary(await json(await this.#req(c, 'GET', `/sessions/${encodeURIComponent(sessionId(session))}`, { signal })));
  }

  /** Dispatch a turn: 202 {job_id}; 409 turn_in_flight / gate_parked. */
  async send(c: string, session: string, text: string, signal?: AbortSignal): Promise<void> {
    await json(await this.#req(c, 'POST', `/sessions/${encodeURIComponent(sessionId(session))}/messages`, { body: { text }, signal }));
  }

  async reply(c: string, session: string, gate: Gate, reply: { answer?: string; approve?: boolean }, signal?: AbortSignal): Promise<void> {
    const path = `/sessions/${encodeURIComponent(sessionId(session))}/${gate.kind === 'confirm' ? 'confirm' : 'answer'}`;
    // Echo gate_id + generation so a late reply fails as stale_gate instead of answering the next gate [G:51].
    const body = gate.kind === 'confirm' ? { gate_id: gate.gate_id, generation: gate.generation, approved: reply.approve === true } : { gate_id: gate.gate_id, generation: gate.generation, answer: reply.answer };
    await json(await this.#req(c, 'POST', path, { body, signal }));
  }

  async cancel(c: string, session: string, signal?: AbortSignal): Promise<void> {
    await json(await this.#req(c, 'POST', `/sessions/${encodeURIComponent(sessionId(session))}/cancel`, { signal }));
  }

  /** The live session's replay ring (≤ 1024 events), oldest first [G:68]. */
  async replay(c: string, session: string, signal?: AbortSignal): Promise<{ events: AgentEvent[]; maxSeq: number }> {
    const body = await json<Record<string, unknown>>(await this.#req(c, 'GET', `/sessions/${encodeURIComponent(sessionId(session))}/replay`, { signal }));
    const raw = (Array.isArray(body.events) ? body.events : []) as Record<string, unknown>[];
    const events = raw.map((e) => toEvent(str(e.seq), str(e.event ?? e.type), JSON.stringify(e.data ?? e))).sort((a, b) => a.seq - b.seq);
    return { events, maxSeq: Number(body.max_seq ?? events.at(-1)?.seq ?? 0) };
  }

  /** The session's events strictly after `since`, live, across dropped connections (Last-Event-ID). */
  async *stream(c: string, session: string, since: number, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    const path = `/sessions/${encodeURIComponent(sessionId(session))}/stream`;
    const events = sse({
      source: 'agent',
      since: String(since),
      signal,
      connect: async (headers, s) => {
        const res = await this.#req(c, 'GET', path, { headers, signal: s });
        if (res.status >= 400) throw await agentError(res);
        if (!(header(res, 'content-type') ?? '').includes('text/event-stream')) {
          await res.body.dump().catch(() => undefined);
          throw new HoodyError({ kind: 'server', source: 'agent', message: 'the agent kit did not answer with an event stream' });
        }
        return res;
      },
    });
    let last = since;
    for await (const e of events) {
      const ev = toEvent(e.id, e.type, e.data);
      if (e.id !== undefined && ev.seq <= last) continue; // resume is "after this seq" but tolerate inclusive replays
      if (e.id !== undefined) last = ev.seq;
      yield ev;
    }
  }
}

/**
 * Turns as a caller sees them: what each principal has been shown of each session (a cursor per
 * session, kept here so a status read continues where the last result stopped). With a store
 * shared by replicas (`shared`), the cursor is kept there too: a status read through one replica
 * continues where a result from another stopped.
 */
export class AgentTurns {
  readonly #seen: Cursors;

  constructor(
    readonly kit: AgentKit,
    private readonly shared?: Shared,
  ) {
    this.#seen = new Cursors(shared, 'agent', CURSOR_KEEP_MS, 2000);
  }

  #key(c: string, session: string) {
    return `${c}/${session}`;
  }

  /** The last event this caller was shown; for a session it never saw, the kit's newest event. */
  async cursor(c: string, session: string, signal?: AbortSignal): Promise<number> {
    const seen = await this.#known(c, session);
    return seen ?? this.#unseen(c, session, (await this.kit.replay(c, session, signal)).maxSeq);
  }

  /** The last event this caller was shown, here or (shared store) through any replica: the later. */
  #known(c: string, session: string): Promise<number | undefined> {
    return this.#seen.latest(this.#key(c, session));
  }

  /** A session this caller never saw: its place starts at the kit's newest event (what came before is not its own). */
  #unseen(c: string, session: string, maxSeq: number): number {
    this.#seen.set(this.#key(c, session), maxSeq);
    return maxSeq;
  }

  /** Mark events up to `seq` as shown to this caller. */
  shown(c: string, session: string, seq: number): void {
    const k = this.#key(c, session);
    if (seq > (this.#seen.get(k) ?? -1)) this.#seen.set(k, seq);
  }

  /** Start a turn (a new session unless one is given); returns the session id. */
  async start(c: string, opts: { session?: string; prompt: string; model?: string }, signal?: AbortSignal): Promise<string> {
    let session = opts.session;
    if (session) {
      await this.cursor(c, session, signal); // events before this turn were not this call's
    } else {
      session = await this.kit.create(c, { model: opts.model }, signal);
      this.#seen.set(this.#key(c, session), 0);
      this.#seen.share(this.#key(c, session));
    }
    await this.kit.send(c, session, opts.prompt, signal);
    return session;
  }

  /**
   * The events this caller has not been shown, until the turn ends (done), parks on a gate that
   * is not auto-approved, or `until` passes. Each yielded event counts as shown.
   */
  async *follow(c: string, session: string, opts: { until: number; signal: AbortSignal; autoApprove?: boolean }): AsyncGenerator<AgentEvent> {
    const seen: AgentEvent[] = [];
    try {
      for await (const e of this.#follow(c, session, opts)) {
        if (this.shared) seen.push(e.text.length > LOG_TEXT ? { ...e, text: e.text.slice(0, LOG_TEXT) } : e);
        if (seen.length > LOG_EVENTS) seen.shift();
        yield e;
      }
    } finally {
      this.#seen.share(this.#key(c, session));
      // The transcript outlives the kit's replay ring (and a gateway that lost it), for every replica.
      if (seen.length) inBackground(this.shared, (s) => s.append(`agent-log:${this.#key(c, session)}`, seen, LOG_EVENTS, CURSOR_KEEP_MS));
    }
  }

  /**
   * A session's transcript: the kit's replay ring, and (shared store) the events any replica
   * followed, kept after the kit forgot them; by `seq`, each once. The state is the kit's, or
   * `unknown` when the kit no longer has the session but the store still has its events.
   */
  async transcript(c: string, session: string, signal?: AbortSignal): Promise<{ events: AgentEvent[]; state: string }> {
    const kept = orLocal(this.shared, (s) => s.list<AgentEvent>(`agent-log:${this.#key(c, session)}`), () => [] as AgentEvent[]);
    const kit = Promise.all([this.kit.replay(c, session, signal), this.kit.get(c, session, signal)]);
    const [stored, live] = await Promise.all([kept, kit.catch((err: unknown) => err)]);
    if (live instanceof Error && !(stored.length && live instanceof HoodyError && live.kind === 'not_found')) throw live;
    const [replay, summary] = live instanceof Error ? [{ events: [] as AgentEvent[] }, undefined] : (live as [{ events: AgentEvent[] }, SessionSummary]);
    const bySeq = new Map<number, AgentEvent>();
    for (const e of [...stored, ...replay.events]) if (Number.isSafeInteger(e?.seq)) bySeq.set(e.seq, e);
    return { events: [...bySeq.values()].sort((a, b) => a.seq - b.seq), state: summary?.state ?? 'unknown (the kit no longer has this session)' };
  }

  async *#follow(c: string, session: string, opts: { until: number; signal: AbortSignal; autoApprove?: boolean }): AsyncGenerator<AgentEvent> {
    const since = await this.cursor(c, session, opts.signal);
    // What is buffered first (without waiting), then the live stream while the turn runs.
    const { events } = await this.kit.replay(c, session, opts.signal);
    const summary = await this.kit.get(c, session, opts.signal);
    let cursor = since;
    for (const e of events.filter((x) => x.seq > since)) {
      this.shown(c, session, e.seq);
      cursor = e.seq;
      yield e;
      if (e.kind === 'done') return;
    }
    const parked = summary.gate;
    if (parked) {
      if (!(opts.autoApprove && parked.kind === 'confirm')) return;
      await this.kit.reply(c, session, parked, { approve: true }, opts.signal);
    } else if (summary.state !== 'running') return;
    yield* this.#live(c, session, cursor, opts);
  }

  /** The live stream after `cursor` until the turn ends, parks (unless auto-approved) or `until` passes. */
  async *#live(c: string, session: string, cursor: number, opts: { until: number; signal: AbortSignal; autoApprove?: boolean }): AsyncGenerator<AgentEvent> {
    // Stop listening at `until` (the turn goes on; the caller gets a handle).
    const timeUp = AbortSignal.timeout(Math.max(1, opts.until - Date.now()));
    const signal = AbortSignal.any([opts.signal, timeUp]);
    try {
      for await (const e of this.kit.stream(c, session, cursor, signal)) {
        this.shown(c, session, e.seq);
        yield e;
        if (e.kind === 'done') return;
        if (e.kind === 'gate' && e.gate) {
          if (!(opts.autoApprove && e.gate.kind === 'confirm')) return;
          await this.kit.reply(c, session, e.gate, { approve: true }, opts.signal);
        }
      }
    } catch (err) {
      if (timeUp.aborted && !opts.signal.aborted) return;
      throw err;
    }
  }

  /**
   * The events after `from` this caller has been shown, up to its cursor — read where the
   * replicas share it, so a call retried through another replica (after a question round) gives
   * back what the first call showed, and its following goes on after it, repeating none of it.
   */
  async shownSince(c: string, session: string, from: number, signal?: AbortSignal): Promise<AgentEvent[]> {
    const [known, { events, maxSeq }] = await Promise.all([this.#known(c, session), this.kit.replay(c, session, signal)]);
    const upTo = known ?? this.#unseen(c, session, maxSeq);
    return events.filter((e) => e.seq > from && e.seq <= upTo);
  }
}
