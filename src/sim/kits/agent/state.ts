/**
 * The agent gateway's per-container state (seed-agent.md §3, §6): sessions with one serial turn
 * slot, scripted turns that stream events (int64 `seq`, a 1024-event replay ring), confirm and
 * question gates with `gate_id`/`generation`, cancellation, and a fault that drops the streams.
 *
 * Turns are scripts: a test registers steps for a prompt (`sim.agent.script(prompt, steps)`);
 * any other prompt runs a short default script. Event names the seeds do not give are invented
 * and marked so in routes.ts.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ContainerRec } from '../../records.js';
import type { SimCore } from '../../state.js';
import { isoNow } from '../../util.js';
import { KitError, type KitState } from '../base.js';

/** One step of a scripted turn. `{answer}` in a text is replaced by the last answer given. */
export type AgentStep =
  | { text: string }
  | { tool: string; command: string; output?: string }
  | { confirm: string; tool?: string; output?: string }
  | { question: string; options?: string[] }
  | { delayMs: number }
  /** Fault: every open stream of the session is cut here (clients must resume by Last-Event-ID). */
  | { drop: true };

export interface Frame {
  seq: number;
  event: string;
  data: Record<string, unknown>;
}

interface PendingGate {
  gate_id: string;
  generation: number;
  kind: 'confirm' | 'question';
  payload: Record<string, unknown>;
  resolve: (reply: { approved?: boolean; answer?: string }) => void;
}

interface Turn {
  job_id: string;
  gate?: PendingGate;
  cancelled: boolean;
  wake?: () => void;
}

export const RING = 1024;

export const agentError = (status: number, code: string, message: string) => new KitError(status, message, { code });

const hex = (n: number) => randomBytes(n).toString('hex');

export class AgentSession {
  readonly created = isoNow();
  updated = this.created;
  seq = 0;
  readonly ring: Frame[] = [];
  turn: Turn | null = null;
  turns = 0;
  generation = 0;
  readonly live = new Set<ServerResponse>();
  constructor(
    readonly id: string,
    readonly model: string,
    readonly cwd: string,
  ) {}

  emit(event: string, data: Record<string, unknown>): void {
    const f: Frame = { seq: ++this.seq, event, data: { seq: this.seq + 0, session_id: this.id, ...data } };
    this.ring.push(f);
    if (this.ring.length > RING) this.ring.shift();
    this.updated = isoNow();
    for (const res of this.live) res.write(sseFrame(f));
  }

  dropStreams(): void {
    for (const res of this.live) res.destroy();
    this.live.clear();
  }

  summary(): Record<string, unknown> {
    const g = this.turn?.gate;
    return {
      id: this.id, session_id: this.id, model: this.model, cwd: this.cwd, turns: this.turns, last_seq: this.seq,
      state: g ? 'parked' : this.turn ? 'running' : 'idle',
      pending_gate: g ? { gate_id: g.gate_id, generation: g.generation, kind: g.kind, ...g.payload } : null,
      created_at: this.created, updated_at: this.updated,
    };
  }
}

export function sseFrame(f: Frame): string {
  return `id: ${f.seq}\nevent: ${f.event}\ndata: ${JSON.stringify(f.data)}\n\n`;
}

const DEFAULT_SCRIPT = (prompt: string): AgentStep[] => [
  { text: `Looking into: ${prompt.slice(0, 200)}` },
  { tool: 'bash', command: 'ls ~', output: 'README.md' },
  { text: 'Done: nothing needed changing.' },
];

export class AgentState implements KitState {
  readonly sessions = new Map<string, AgentSession>();

  constructor(
    private readonly core: SimCore,
    readonly container: ContainerRec,
    private readonly scripts: Map<string, AgentStep[]>,
  ) {}

  create(body: Record<string, unknown>): AgentSession {
    const attach = typeof body.attach === 'string' ? this.sessions.get(body.attach) : undefined;
    if (attach) return attach;
    const model = typeof body.model === 'string' && body.model ? body.model : 'hoody/hoody-free';
    if (!/^[^/\s]+\/[^\s]+$/.test(model)) throw agentError(400, 'invalid_model', 'model must be provider/model');
    const s = new AgentSession(hex(12), model, typeof body.cwd === 'string' && body.cwd ? body.cwd : '/home/user');
    this.sessions.set(s.id, s);
    return s;
  }

  get(id: string): AgentSession {
    const s = this.sessions.get(id);
    if (!s) throw agentError(404, 'session_not_found', `session ${id} not found`);
    return s;
  }

  /** `POST …/messages`: claim the turn slot and run the script detached; 202 {job_id}. */
  dispatch(s: AgentSession, text: string): string {
    if (s.turn?.gate) throw agentError(409, 'gate_parked', 'a gate is parked: confirm or answer it first');
    if (s.turn) throw agentError(409, 'turn_in_flight', 'a turn is already running in this session');
    const turn: Turn = { job_id: hex(12), cancelled: false };
    s.turn = turn;
    s.turns += 1;
    s.emit('event.turn_started', { job_id: turn.job_id, text }); // name invented
    void this.run(s, turn, this.scripts.get(text) ?? DEFAULT_SCRIPT(text)).catch(() => undefined);
    return turn.job_id;
  }

  async run(s: AgentSession, turn: Turn, steps: AgentStep[]): Promise<void> {
    let answer = '';
    const texts: string[] = [];
    for (const step of steps) {
      if (turn.cancelled || this.core.closing) break;
      if ('delayMs' in step) await new Promise<void>((r) => ((turn.wake = r), this.core.later(step.delayMs, r)));
      else if ('drop' in step) await this.dropWhenWatched(s, turn);
      else if ('text' in step) {
        const t = step.text.replace('{answer}', answer);
        texts.push(t);
        s.emit('event.text_delta', { text: t }); // name invented
      } else if ('command' in step) {
        const call = hex(4);
        s.emit('event.tool_call', { call_id: call, tool: step.tool, command: step.command }); // invented
        s.emit('event.tool_result', { call_id: call, tool: step.tool, ok: true, output: step.output ?? '' }); // invented
      } else {
        const reply = await this.park(s, turn, step);
        if (turn.cancelled) break;
        if ('confirm' in step) {
          s.emit('event.tool_result', { tool: step.tool ?? 'bash', ok: reply.approved === true, output: reply.approved ? (step.output ?? '') : 'denied by the user' });
        } else answer = reply.answer ?? '';
      }
    }
    if (s.turn !== turn) return;
    s.turn = null;
    s.emit('agent_done', turn.cancelled ? { status: 'cancelled' } : { status: 'done', text: texts.at(-1) ?? '' });
  }

  /** The drop fault cuts a stream someone is reading: wait (≤ 5 s) for one to be open, then cut every one. */
  async dropWhenWatched(s: AgentSession, turn: Turn): Promise<void> {
    for (let waited = 0; !s.live.size && waited < 5000 && !turn.cancelled && !this.core.closing; waited += 10) await this.core.wait(10);
    s.dropStreams();
  }

  park(s: AgentSession, turn: Turn, step: Extract<AgentStep, { confirm: string } | { question: string }>): Promise<{ approved?: boolean; answer?: string }> {
    return new Promise((resolve) => {
      const kind = 'confirm' in step ? 'confirm' : 'question';
      const payload = 'confirm' in step ? { tool: step.tool ?? 'bash', command: step.confirm } : { question: step.question, ...(step.options ? { options: step.options } : {}) };
      const gate: PendingGate = { gate_id: `g_${hex(6)}`, generation: ++s.generation, kind, payload, resolve };
      turn.gate = gate;
      turn.wake = () => resolve({});
      s.emit(kind === 'confirm' ? 'event.confirm_request' : 'event.user_question', { gate_id: gate.gate_id, generation: gate.generation, ...payload });
    });
  }

  /** `/confirm` and `/answer`: validation order of seed-agent §6. */
  reply(s: AgentSession, kind: 'confirm' | 'question', body: Record<string, unknown>): void {
    const g = s.turn?.gate;
    if (!g) throw agentError(409, 'no_pending_gate', 'nothing is parked');
    if (g.kind !== kind) throw agentError(409, 'gate_type_mismatch', `the parked gate is a ${g.kind}`);
    const stale = (body.gate_id !== undefined && body.gate_id !== g.gate_id) || (body.generation !== undefined && Number(body.generation) !== g.generation);
    if (stale) throw agentError(409, 'stale_gate', 'gate_id/generation do not match the parked gate');
    s.turn!.gate = undefined;
    if (kind === 'confirm') {
      const approved = body.approved !== false; // defaults to true [G:529]
      s.emit('event.confirm_answer', { gate_id: g.gate_id, approved }); // invented
      g.resolve({ approved });
    } else {
      const answer = typeof body.answer === 'string' ? body.answer : typeof body.text === 'string' ? body.text : JSON.stringify(body.answers ?? '');
      s.emit('event.user_answer', { gate_id: g.gate_id, answer }); // invented
      g.resolve({ answer });
    }
  }

  cancel(s: AgentSession): boolean {
    const t = s.turn;
    if (!t) return false;
    t.cancelled = true;
    t.gate = undefined;
    t.wake?.();
    return true;
  }

  remove(id: string): void {
    const s = this.get(id);
    this.cancel(s);
    s.dropStreams();
    this.sessions.delete(id);
  }

  stop(): void {
    for (const s of this.sessions.values()) {
      this.cancel(s);
      s.dropStreams();
    }
    this.sessions.clear();
  }
}
