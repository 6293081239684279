/**
 * Ask the person at the client, per protocol revision (DESIGN "Gates by protocol revision"):
 *
 * - 2025 sessions (stdio, or HTTP with a session) whose client declared elicitation: `push`, an
 *   elicitation request with a 30 s limit; past it the caller falls back to an in-band answer.
 * - 2026-07-28 requests declaring elicitation: `round`, an `input_required` result whose
 *   `requestState` (HMAC-sealed, bound to the credential, holding no secret) comes back on the
 *   retried call with the answer: the handler then sees `resumed`.
 * - Anything else (stateless 2025 HTTP, clients without elicitation): `none`, in-band only.
 *
 * The tool never sees which revision it serves: it asks, or returns the round, or answers in-band.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  PROTOCOL_VERSION_META_KEY,
  type InputRequiredResult,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { stateKeys } from './state-key.js';

/** How long a pushed question waits for the person before the in-band gate comes back. */
export const ELICIT_LIMIT_MS = 30_000;

export interface Field {
  type: 'string' | 'boolean';
  title: string;
  description?: string;
}

export interface Question {
  message: string;
  fields: Record<string, Field>;
}

export type Answer = { action: 'accept'; content: Record<string, unknown> } | { action: 'decline' | 'cancel' | 'timeout' | 'unavailable' };

export interface Asker {
  readonly mode: 'push' | 'round' | 'none';
  /** A retried 2026-07-28 call: the state its round was asked with (verified), and the answer it carries. */
  readonly resumed?: { state: Record<string, unknown>; answer: Answer };
  /** push: ask now; resolves within ELICIT_LIMIT_MS (`timeout`) or when `signal` aborts (`cancel`). */
  ask(q: Question, signal: AbortSignal): Promise<Answer>;
  /** round: the result that asks; the retry carries `state` back as `resumed.state`. */
  round(q: Question, state: Record<string, unknown>): Promise<InputRequiredResult>;
}

const ANSWER_KEY = 'answer';

const codecs = new Map<string, RequestStateCodec<Record<string, unknown>>>();
/** Codecs kept (each imports its HMAC keys on first use): one per recent credential. */
const CODECS_MAX = 1024;

/**
 * The requestState codec of one credential's server instances: a state minted for one credential
 * is refused for another. Signed with this process's key, or the one its replicas share (state-key.ts).
 */
export function requestStateCodec(principal: string): RequestStateCodec<Record<string, unknown>> {
  let codec = codecs.get(principal);
  if (!codec) {
    codec = keyedCodec(principal);
    if (codecs.size >= CODECS_MAX) codecs.delete(codecs.keys().next().value!);
    codecs.set(principal, codec);
  }
  return codec;
}

/** Mints with the current key; verifies with it, then with the keys this process used before. */
function keyedCodec(principal: string): RequestStateCodec<Record<string, unknown>> {
  const byKey = new Map<Uint8Array, RequestStateCodec<Record<string, unknown>>>();
  const codec = (key: Uint8Array) => {
    let c = byKey.get(key);
    if (!c) byKey.set(key, (c = createRequestStateCodec<Record<string, unknown>>({ key, ttlSeconds: 900, bind: () => principal })));
    return c;
  };
  return {
    mint: (payload, ctx) => codec(stateKeys()[0]!).mint(payload, ctx),
    async verify(state, ctx) {
      const [key, ...earlier] = stateKeys();
      try {
        return await codec(key!).verify(state, ctx);
      } catch (err) {
        for (const k of earlier) {
          const ok = await codec(k).verify(state, ctx).catch(() => undefined);
          if (ok) return ok;
        }
        throw err;
      }
    },
  };
}

const schemaOf = (q: Question) => ({
  type: 'object' as const,
  properties: Object.fromEntries(Object.entries(q.fields).map(([k, f]) => [k, { ...f }])),
  required: Object.keys(q.fields),
});

function toAnswer(r: { action?: string; content?: Record<string, unknown> } | undefined): Answer {
  if (r?.action === 'accept') return { action: 'accept', content: r.content ?? {} };
  return { action: r?.action === 'decline' ? 'decline' : 'cancel' };
}

/** The asker of one request. `clientCapabilities` is what a 2025 session declared at initialize. */
export function askerFor(ctx: ServerContext, codec: RequestStateCodec<Record<string, unknown>>, clientCapabilities: { elicitation?: unknown } | undefined): Asker {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const modern = envelope?.[PROTOCOL_VERSION_META_KEY] !== undefined;
  const caps = (modern ? envelope?.[CLIENT_CAPABILITIES_META_KEY] : clientCapabilities) as { elicitation?: unknown } | undefined;
  const mode = caps?.elicitation ? (modern ? 'round' : 'push') : 'none';
  const state = modern ? ctx.mcpReq.requestState<Record<string, unknown>>() : undefined;
  let resumed: Asker['resumed'];
  if (state && typeof state === 'object') {
    const view = inputResponse(ctx.mcpReq.inputResponses, ANSWER_KEY);
    resumed = { state, answer: view.kind === 'elicit' ? toAnswer(view) : { action: 'cancel' } };
  }
  return {
    mode,
    resumed,
    async ask(q, signal) {
      try {
        const r = await ctx.mcpReq.elicitInput({ mode: 'form', message: q.message, requestedSchema: schemaOf(q) } as never, { timeout: ELICIT_LIMIT_MS, signal });
        return toAnswer(r as { action?: string; content?: Record<string, unknown> });
      } catch (err) {
        if (signal.aborted) return { action: 'cancel' };
        return { action: /timeout|timed out/i.test(`${(err as { code?: string }).code} ${(err as Error).message}`) ? 'timeout' : 'unavailable' };
      }
    },
    async round(q, s) {
      return inputRequired({
        inputRequests: { [ANSWER_KEY]: inputRequired.elicit({ message: q.message, requestedSchema: schemaOf(q) as never }) },
        requestState: await codec.mint(s, ctx),
      });
    },
  };
}
