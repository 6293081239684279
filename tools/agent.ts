import * as z from 'zod';
import type { InputRequiredResult } from '@modelcontextprotocol/server';
import type { AgentEvent, Gate, SessionSummary } from '../src/core/kits/agent.js';
import type { Question } from '../src/mcp/ask.js';
import type { ToolContext } from '../src/mcp/define-tool.js';
import { fail, reply, type Reply } from '../src/mcp/result.js';
import { waitStream } from '../src/mcp/wait.js';
import { inContainer, tool, waitS, type Deps } from './common.js';

const session = z.string().min(1).max(64).describe('Session id from agent_run');
export const agentUri = (c: string, s: string) => `hoody://containers/${c}/agent/${encodeURIComponent(s)}`;
type Ctx = ToolContext<Deps, string>;

const one = (s: string, max = 200) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** One short line per event: progress while waiting, and the result's transcript. */
export function eventLine(e: AgentEvent): string | undefined {
  switch (e.kind) {
    case 'text':
      return e.text.trim() ? one(e.text, 400) : undefined;
    case 'tool_call':
      return `→ ${e.tool}: ${one(e.text)}`;
    case 'tool_result':
      return `← ${e.ok ? 'ok' : 'failed'}${e.text ? `: ${one(e.text)}` : ''}`;
    case 'gate':
      return e.gate?.kind === 'confirm' ? `? confirm ${e.gate.tool ?? ''}: ${one(e.text)}` : `? ${one(e.text)}`;
    case 'answer':
      return `↳ ${one(e.text)}`;
    case 'done':
      return `■ ${e.status}`;
    case 'lagged':
      return `(${e.text})`;
    default:
      return undefined;
  }
}

const gateQuestion = (g: Gate): Question =>
  g.kind === 'confirm'
    ? { message: `The container's agent wants to run (${g.tool ?? 'tool'}): ${g.command ?? ''}`, fields: { approve: { type: 'boolean', title: 'Approve?' } } }
    : { message: `The container's agent asks: ${g.question ?? ''}`, fields: { answer: { type: 'string', title: 'Answer', ...(g.options ? { description: `options: ${g.options.join(' | ')}` } : {}) } } };

/** The result: state line, transcript of what this caller had not seen, the gate and what to do. */
function report(c: string, s: SessionSummary, events: AgentEvent[], note?: string): Reply {
  const lines = events.map(eventLine).filter((l): l is string => !!l);
  const g = s.gate;
  const head = `session ${s.id} · ${s.state}${note ? ` · ${note}` : ''}`;
  const r = reply().text(head);
  if (lines.length) r.text(lines.join('\n'), { head: 0.25, more: `transcript: ${agentUri(c, s.id)}`, link: { uri: agentUri(c, s.id), name: `agent session ${s.id}`, mimeType: 'text/plain' } });
  if (g) {
    const what = g.kind === 'confirm' ? `command: ${g.command ?? '?'}${g.tool ? ` (${g.tool})` : ''}` : `question: ${g.question ?? '?'}`;
    const how = g.kind === 'confirm' ? 'agent_reply approve=true|false' : 'agent_reply answer="…"';
    r.text(`${what}\n${g.options ? `options: ${g.options.join(' | ')}\n` : ''}gate ${g.gate_id} — ${how}`);
  } else if (s.state === 'running') r.text('still running — agent_status continues (wait_s), agent_cancel stops');
  return r.structured({
    session: s.id, state: s.state, events: events.length,
    ...(g ? { gate_id: g.gate_id, kind: g.kind, question: g.question, command: g.command, options: g.options } : {}),
  });
}

interface Drive {
  waitS: number;
  since?: number;
  autoApprove?: boolean;
  /** Events already shown in this call (before a 2026 round). */
  shown?: AgentEvent[];
}

/**
 * Follow a turn through the wait helper until it ends, parks or wait_s passes; a parked gate is
 * asked of the person where the client can (a 30 s elicitation, or an input_required round),
 * else it comes back in-band.
 */
async function drive(ctx: Ctx, s: string, o: Drive): Promise<Reply | InputRequiredResult> {
  const { deps, scope: c } = ctx;
  const events = [...(o.shown ?? [])];
  let until = (o.since ?? Date.now()) + o.waitS * 1000;
  for (;;) {
    await waitStream(ctx, {
      waitS: Math.max(0, (until - Date.now()) / 1000),
      updates: async function* (u, signal) {
        for await (const e of deps.agent.follow(c, s, { until: u, signal, autoApprove: o.autoApprove })) {
          events.push(e);
          yield e;
        }
      },
      progress: eventLine,
      cancel: () => deps.agent.kit.cancel(c, s),
    });
    const st = await deps.agent.kit.get(c, s, ctx.signal);
    const g = st.gate;
    if (!g || ctx.asker.mode === 'none') return report(c, st, events);
    if (ctx.asker.mode === 'round') {
      const from = events[0] ? events[0].seq - 1 : await deps.agent.cursor(c, s, ctx.signal);
      return ctx.asker.round(gateQuestion(g), { tool: 'agent', c, s, gate_id: g.gate_id, generation: g.generation, kind: g.kind, from, auto: !!o.autoApprove });
    }
    const a = await ctx.asker.ask(gateQuestion(g), ctx.signal);
    if (a.action !== 'accept') return report(c, st, events, a.action === 'timeout' ? 'no answer within 30 s' : `the person did not answer (${a.action})`);
    await deps.agent.kit.reply(c, s, g, { approve: a.content.approve === true, answer: String(a.content.answer ?? '') }, ctx.signal);
    until = Math.max(until, Date.now() + 5_000); // an answer deserves a look at what it led to
  }
}

/** A retried 2026-07-28 call: answer the gate the round asked about, then keep following. */
async function resume(ctx: Ctx, waitSec: number): Promise<Reply | InputRequiredResult | undefined> {
  const r = ctx.asker.resumed;
  if (!r || r.state.tool !== 'agent' || r.state.c !== ctx.scope) return undefined;
  const st = r.state as { s: string; gate_id: string; generation: number; kind: 'confirm' | 'question'; from: number; auto: boolean };
  const { deps, scope: c } = ctx;
  const shown = await deps.agent.shownSince(c, st.s, st.from, ctx.signal);
  if (r.answer.action !== 'accept') return report(c, await deps.agent.kit.get(c, st.s, ctx.signal), shown, `the person did not answer (${r.answer.action})`);
  const gate: Gate = { gate_id: st.gate_id, generation: st.generation, kind: st.kind };
  await deps.agent.kit.reply(c, st.s, gate, { approve: r.answer.content.approve === true, answer: String(r.answer.content.answer ?? '') }, ctx.signal);
  return drive(ctx, st.s, { waitS: waitSec, autoApprove: st.auto, shown });
}

const waitDeadline = (args: { wait_s?: number }) => (args.wait_s ?? 25) + 65; // + a 30 s elicitation + time to answer

export const agentTools = [
  tool({
    name: 'agent_run',
    title: 'Delegate to agent',
    description:
      "Give a task to the container's AI agent (new session unless session is given). Streams its steps as progress; returns its answer, its pending question/confirmation (answer with agent_reply), or after wait_s a running session for agent_status. auto_approve approves confirmations only.",
    toolset: 'agent',
    kind: 'write',
    scope: inContainer,
    deadline: waitDeadline,
    input: z.object({
      prompt: z.string().min(1).max(100_000),
      session: session.optional(),
      model: z.string().regex(/^[^/\s]+\/\S+$/).max(200).optional().describe('provider/model'),
      auto_approve: z.boolean().optional(),
      wait_s: waitS(25),
    }),
    async handler(args, ctx) {
      const resumed = await resume(ctx, args.wait_s ?? 25);
      if (resumed) return resumed;
      const since = Date.now();
      const s = await ctx.deps.agent.start(ctx.scope, { session: args.session, prompt: args.prompt, model: args.model }, ctx.signal);
      return drive(ctx, s, { waitS: args.wait_s ?? 25, since, autoApprove: args.auto_approve });
    },
  }),

  tool({
    name: 'agent_reply',
    title: 'Answer agent',
    description: "Answer the agent's pending question (answer) or confirmation (approve), then follow the turn like agent_run.",
    toolset: 'agent',
    kind: 'write',
    scope: inContainer,
    deadline: waitDeadline,
    input: z.object({
      session,
      answer: z.string().max(100_000).optional(),
      approve: z.boolean().optional(),
      gate_id: z.string().max(100).optional().describe('Refuse if another gate is pending'),
      wait_s: waitS(25),
    }),
    async handler(args, ctx) {
      const resumed = await resume(ctx, args.wait_s ?? 25);
      if (resumed) return resumed;
      const { deps, scope: c } = ctx;
      const st = await deps.agent.kit.get(c, args.session, ctx.signal);
      const g = st.gate;
      if (!g) return fail(`session ${st.id} is ${st.state}, not waiting on a gate`, 'agent_status shows what it is doing');
      if (g.kind === 'confirm' && args.approve === undefined) return fail(`gate ${g.gate_id} is a confirmation`, 'pass approve=true or approve=false');
      if (g.kind === 'question' && args.answer === undefined) return fail(`gate ${g.gate_id} is a question: ${g.question ?? ''}`, 'pass answer');
      await deps.agent.kit.reply(c, st.id, args.gate_id ? { ...g, gate_id: args.gate_id } : g, { answer: args.answer, approve: args.approve }, ctx.signal);
      return drive(ctx, st.id, { waitS: args.wait_s ?? 25 });
    },
  }),

  tool({
    name: 'agent_status',
    title: 'Agent status',
    description: 'A session\'s state and the events not yet shown to you; waits up to wait_s for the turn to end or park.',
    toolset: 'agent',
    kind: 'read',
    scope: inContainer,
    deadline: waitDeadline,
    input: z.object({ session, wait_s: waitS(0) }),
    async handler(args, ctx) {
      const resumed = await resume(ctx, args.wait_s ?? 0);
      return resumed ?? drive(ctx, args.session, { waitS: args.wait_s ?? 0 });
    },
  }),

  tool({
    name: 'agent_cancel',
    title: 'Cancel agent turn',
    description: "Stop the session's running turn (a pending gate is dropped).",
    toolset: 'agent',
    kind: 'write',
    idempotent: true,
    scope: inContainer,
    input: z.object({ session }),
    async handler(args, ctx) {
      const { deps, scope: c } = ctx;
      await deps.agent.kit.cancel(c, args.session, ctx.signal);
      return drive(ctx, args.session, { waitS: 5 });
    },
  }),

  tool({
    name: 'agent_sessions',
    title: 'Agent sessions',
    description: "The container's agent sessions: id, state, model, turns.",
    toolset: 'agent',
    kind: 'read',
    scope: inContainer,
    input: z.object({}),
    async handler(_args, { deps, scope: c, signal }) {
      const all = await deps.agent.kit.list(c, signal);
      const lines = all.map((s) => `${s.id}  ${s.state}  ${s.model ?? ''}  ${s.turns ?? 0} turns${s.updatedAt ? `  ${s.updatedAt}` : ''}`);
      return reply()
        .text(all.length ? lines.join('\n') : 'no agent sessions — agent_run starts one')
        .structured({ sessions: all.map((s) => ({ id: s.id, state: s.state })) });
    },
  }),
];
