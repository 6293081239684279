/**
 * Tool results within budget. ~4 characters a token: 32,000 characters is ~8k tokens, far under
 * the 25k at which Claude Code rejects a result. Long text keeps its head and tail and says what
 * was cut and where the rest is.
 */
import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/server';

export const BUDGET_CHARS = 32_000;

export interface Clipped {
  text: string;
  cut: number;
  total: number;
}

/**
 * Keep `head` share of the budget from the start and the rest from the end, cutting at line
 * boundaries where one is near. `more` says where the full text is (a URI, an offset to pass).
 */
export function clip(text: string, opts: { budget?: number; head?: number; more?: string } = {}): Clipped {
  const budget = opts.budget ?? BUDGET_CHARS;
  if (text.length <= budget) return { text, cut: 0, total: text.length };
  const room = Math.max(200, budget - 200);
  let headLen = Math.floor(room * (opts.head ?? 0.3));
  let tailStart = text.length - (room - headLen);
  const nl = text.lastIndexOf('\n', headLen);
  if (nl > headLen * 0.8) headLen = nl + 1;
  const nl2 = text.indexOf('\n', tailStart);
  if (nl2 !== -1 && nl2 - tailStart < (text.length - tailStart) * 0.2) tailStart = nl2 + 1;
  const cut = tailStart - headLen;
  const cutLines = countLines(text.slice(headLen, tailStart));
  const marker = `\n… [${cut} of ${text.length} characters (${cutLines} lines) cut${opts.more ? `; ${opts.more}` : ''}] …\n`;
  return { text: text.slice(0, headLen) + marker + text.slice(tailStart), cut, total: text.length };
}

export function countLines(s: string): number {
  if (!s) return 0;
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return s.endsWith('\n') ? n : n + 1;
}

/** A text result; `structured` goes to structuredContent (and is not repeated in the text). */
export function ok(text: string, structured?: Record<string, unknown>, extra: ContentBlock[] = []): CallToolResult {
  return {
    content: [{ type: 'text', text }, ...extra],
    ...(structured ? { structuredContent: structured } : {}),
  };
}

export function resourceLink(uri: string, name: string, opts: { mimeType?: string; description?: string; size?: number } = {}): ContentBlock {
  return { type: 'resource_link', uri, name, ...opts } as ContentBlock;
}

/** What happened, then what to do: `message — hint`. */
const explain = (message: string, hint?: string) => (hint ? `${message} — ${hint}` : message);

/** The app's wording of an error (what happened — what to do); undefined falls back to message — hint. */
export type DescribeError = (err: unknown) => string | undefined;

/**
 * An error as a caller can act on it. Errors carry an optional `hint` (what to do next);
 * anything else is reported by its message only — never a stack trace.
 */
function describe(err: unknown, custom?: DescribeError): string {
  const words = custom?.(err);
  if (words) return words;
  const e = err as { message?: unknown; hint?: string };
  return explain(typeof e?.message === 'string' && e.message ? e.message : 'unexpected failure', e?.hint);
}

/** An error result any caller can act on. */
export function fail(message: string, hint?: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: explain(message, hint) }] };
}

export function errorResult(err: unknown, custom?: DescribeError): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: describe(err, custom) }] };
}

/** The last line of defence: no result leaves larger than the budget, whatever a tool did. */
export function enforceBudget(result: CallToolResult, budget = BUDGET_CHARS): CallToolResult {
  const texts = result.content.filter((c): c is { type: 'text'; text: string } => c.type === 'text');
  const total = texts.reduce((n, c) => n + c.text.length, 0) + (result.structuredContent ? JSON.stringify(result.structuredContent).length : 0);
  if (total <= budget * 1.1) return result;
  let over = total - budget;
  for (const c of [...texts].sort((a, b) => b.text.length - a.text.length)) {
    if (over <= 0) break;
    const keep = Math.max(200, c.text.length - over);
    const clipped = clip(c.text, { budget: keep });
    over -= c.text.length - clipped.text.length;
    c.text = clipped.text;
  }
  return result;
}

/** Resource errors travel as JSON-RPC errors: keep their message and hint, drop everything else. */
export async function plainErrors<T>(p: Promise<T>, custom?: DescribeError): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new Error(describe(err, custom));
  }
}
