/**
 * Confirmation of calls that cannot be undone (a tool's `confirm` gives the question), per
 * --confirm:
 * - `never`: run.
 * - `always-refuse`: refuse in-band, saying how to allow such calls.
 * - `ask` (default): ask the person where the client can (a 30 s elicitation on 2025 sessions, an
 *   input_required round on 2026-07-28) and run only on a yes; where the client cannot ask, run and
 *   say so in the result.
 */
import { createHash } from 'node:crypto';
import type { CallToolResult, InputRequiredResult } from '@modelcontextprotocol/server';
import type { Answer, Asker, Question } from './ask.js';
import { fail } from './result.js';

export const CONFIRM_MODES = ['ask', 'never', 'always-refuse'] as const;
export type ConfirmMode = (typeof CONFIRM_MODES)[number];

export type Verdict = { run: true; note?: string } | { run: false; result: CallToolResult | InputRequiredResult };

/** What ran unasked says so: the client had no way to ask its user. */
export const UNASKED_NOTE = 'Not confirmed: this client cannot ask its user, so this ran without asking (a server run with --confirm=always-refuse refuses such calls).';

const question = (text: string): Question => ({
  message: text,
  fields: { confirm: { type: 'boolean', title: 'Proceed', description: 'Yes to go ahead; this cannot be undone' } },
});

/** The arguments a round was asked about: its retry must carry the same ones. */
const digest = (tool: string, args: unknown) => createHash('sha256').update(`${tool}\0${JSON.stringify(args)}`).digest('base64url');

const notDone = (why: string, q: string) => ({ run: false as const, result: fail(`not done: ${why} (${q})`, 'nothing was changed; ask the user before calling again') });

export async function confirmCall(tool: string, asked: string, args: unknown, mode: ConfirmMode, asker: Asker, signal: AbortSignal): Promise<Verdict> {
  if (mode === 'never') return { run: true };
  const q = asked.length > 300 ? `${asked.slice(0, 300)}…` : asked;
  if (mode === 'always-refuse') {
    return { run: false, result: fail(`refused: ${q} — this server refuses calls that cannot be undone (--confirm=always-refuse)`, 'nothing was changed; the server must run with --confirm=ask or never to allow it') };
  }
  const r = asker.resumed;
  if (r && r.state.tool === 'confirm' && r.state.args === digest(tool, args)) return verdictOf(r.answer, q);
  if (asker.mode === 'none') return { run: true, note: UNASKED_NOTE };
  if (asker.mode === 'round') return { run: false, result: await asker.round(question(q), { tool: 'confirm', args: digest(tool, args) }) };
  return verdictOf(await asker.ask(question(q), signal), q);
}

/** Only a yes runs the call; anything else says why nothing was done. */
function verdictOf(a: Answer, q: string): Verdict {
  if (a.action === 'accept') return a.content.confirm === true ? { run: true } : notDone('the user did not confirm', q);
  const why = { decline: 'the user declined', cancel: 'the user cancelled', timeout: 'no answer from the user within 30 s', unavailable: 'the question could not be asked' }[a.action];
  return notDone(why, q);
}
