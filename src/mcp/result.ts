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
 * The result, marker included, never exceeds the budget.
 */
export function clip(text: string, opts: { budget?: number; head?: number; more?: string } = {}): Clipped {
  const budget = opts.budget ?? BUDGET_CHARS;
  if (text.length <= budget) return { text, cut: 0, total: text.length };
  let room = Math.max(0, budget - 120);
  for (;;) {
    const r = cutTo(text, room, opts.head ?? 0.3, opts.more);
    const over = r.text.length - budget;
    if (over <= 0 || room === 0) return r;
    room = Math.max(0, room - over);
  }
}

/** `text` cut to `room` characters of its own (head share `head`), plus a marker saying what was cut. */
function cutTo(text: string, room: number, head: number, more: string | undefined): Clipped {
  let headLen = Math.floor(room * head);
  let tailStart = text.length - (room - headLen);
  const nl = text.lastIndexOf('\n', headLen);
  if (nl > headLen * 0.8) headLen = nl + 1;
  const nl2 = text.indexOf('\n', tailStart);
  if (nl2 !== -1 && nl2 - tailStart < (text.length - tailStart) * 0.2) tailStart = nl2 + 1;
  const cut = tailStart - headLen;
  const cutLines = countLines(text.slice(headLen, tailStart));
  const marker = `\n... [${cut} of ${text.length} characters (${cutLines} lines) cut${more ? `; ${more}` : ''}] ...\n`;
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

/** An image block as the builder takes it: bytes or base64, with its pixel size when known. */
export interface ImagePart {
  data: Buffer | string;
  mimeType: string;
  width?: number;
  height?: number;
}

export interface ClipOptions {
  /** Share of the section's room kept from its start (the rest from its end); default 0.3. */
  head?: number;
  /** Where the rest is: a URI, an argument to pass (`offset=…`). */
  more?: string;
  /** A resource holding the whole text, linked only when the section is cut. */
  link?: { uri: string; name: string; mimeType?: string };
}

interface Section {
  text: string;
  clip?: ClipOptions;
}

/**
 * What an image costs a model, in budget characters: Claude-style vision pricing is about
 * width×height/750 tokens, at ~4 characters a token. Unknown sizes count as a 1568×1568 image.
 */
export function imageCost(img: Pick<ImagePart, 'width' | 'height'>): number {
  const px = img.width && img.height ? img.width * img.height : 1568 * 1568;
  return Math.ceil(px / 750) * 4;
}

/**
 * The response builder: a handler adds sections of text, structured fields, images and resource
 * links; `build` lays them out (images, then one text block, then links) within the budget.
 * Sections marked clippable are cut head+tail, largest first, each saying how much was cut and
 * where the rest is; images count toward the budget, and ones that do not fit are left out and
 * counted.
 */
export class Reply {
  readonly #sections: Section[] = [];
  readonly #images: ImagePart[] = [];
  readonly #links: ContentBlock[] = [];
  #structured: Record<string, unknown> | undefined;
  #error = false;

  /** A section of text; with `clip`, the budget may cut it (head+tail) and says where the rest is. */
  text(text: string, clip?: ClipOptions | true): this {
    this.#sections.push({ text, clip: clip === true ? {} : clip });
    return this;
  }

  /** Fields for structuredContent (merged); keep them small — ids, counts, flags, never the text again. */
  structured(fields: Record<string, unknown>): this {
    this.#structured = { ...this.#structured, ...fields };
    return this;
  }

  image(img: ImagePart): this {
    this.#images.push(img);
    return this;
  }

  link(uri: string, name: string, opts: { mimeType?: string; description?: string; size?: number } = {}): this {
    this.#links.push(resourceLink(uri, name, opts));
    return this;
  }

  /** Mark the result as a failure the caller can act on. */
  failed(): this {
    this.#error = true;
    return this;
  }

  build(budget = BUDGET_CHARS): CallToolResult {
    const structuredCost = this.#structured ? JSON.stringify(this.#structured).length : 0;
    let room = budget - structuredCost;
    const images: ImagePart[] = [];
    let left = 0;
    for (const img of this.#images) {
      const cost = imageCost(img);
      // An image never takes more than the room text needs to say what happened.
      if (cost <= room - 400) {
        images.push(img);
        room -= cost;
      } else left += 1;
    }
    const texts = fitSections(this.#sections, room);
    const links = [...this.#links];
    texts.forEach((t, i) => {
      const link = this.#sections[i]!.clip?.link;
      if (link && t !== this.#sections[i]!.text) links.push(resourceLink(link.uri, link.name, { mimeType: link.mimeType }));
    });
    if (left) texts.push(`(${left} of ${this.#images.length} images left out: over the ${budget}-character budget)`);
    const content: ContentBlock[] = images.map((img) => ({
      type: 'image' as const,
      data: typeof img.data === 'string' ? img.data : img.data.toString('base64'),
      mimeType: img.mimeType,
    }));
    if (texts.length) content.push({ type: 'text', text: texts.join('\n') });
    content.push(...links);
    return {
      content,
      ...(this.#structured ? { structuredContent: this.#structured } : {}),
      ...(this.#error ? { isError: true } : {}),
    };
  }
}

export const reply = () => new Reply();

/**
 * Sections within `room` characters: clippable ones are cut largest first; if fixed text alone
 * overflows, it is cut too (the last defence: no result leaves over the budget).
 */
function fitSections(sections: Section[], room: number): string[] {
  const out = sections.map((s) => s.text);
  let over = out.reduce((n, t) => n + t.length + 1, 0) - room;
  if (over <= 0) return out;
  const order = sections
    .map((s, i) => ({ i, clippable: !!s.clip }))
    .sort((a, b) => Number(b.clippable) - Number(a.clippable) || out[b.i]!.length - out[a.i]!.length);
  for (const { i } of order) {
    if (over <= 0) break;
    const keep = Math.max(200, out[i]!.length - over);
    if (keep >= out[i]!.length) continue;
    const cut = clip(out[i]!, { budget: keep, ...(sections[i]!.clip ?? {}) });
    over -= out[i]!.length - cut.text.length;
    out[i] = cut.text;
  }
  return out;
}

/** What happened, then what to do: `message — hint`. */
const explain = (message: string, hint?: string) => (hint ? `${message} — ${hint}` : message);

/** The app's wording of an error (what happened — what to do); undefined falls back to message — hint. */
export type DescribeError = (err: unknown) => string | undefined;

/**
 * An error as a caller can act on it. Errors carry an optional `hint` (what to do next);
 * anything else is reported by its message only — never a stack trace.
 */
export function describe(err: unknown, custom?: DescribeError): string {
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
