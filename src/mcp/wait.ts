/**
 * Wait, stream, hand back: the one way a tool waits on remote work (a command, a container
 * reaching a state, file changes, a transfer, an agent turn). It follows the work's updates
 * until they end or `wait_s` passes, sends each update's news as progress (the shell's heartbeat
 * covers quiet stretches), stops the remote work when the client cancels, and returns the last
 * update so the tool can hand back a handle to continue with.
 */
import { linked } from '../signals.js';
import type { ToolContext } from './define-tool.js';

/** Grace after `until` for the updates to end by themselves before the wait stops them. */
const GRACE_MS = 5_000;

export interface WaitSpec<T> {
  /** Seconds to wait before handing back (Infinity: until the work ends, e.g. a local transfer). */
  waitS: number;
  /** When the wait began (default: now), e.g. before the request that started the work. */
  since?: number;
  /** The work's updates until it is done or `until` (epoch ms) passes; the last is its state at return. */
  updates(until: number, signal: AbortSignal): AsyncIterable<T>;
  /** A progress line for an update that has news (undefined: nothing to say). */
  progress?(update: T): string | undefined;
  /** Stop the remote work: called when the client cancels the call. */
  cancel?(): Promise<unknown>;
}

export interface Waited<T> {
  /** The last update (undefined if none came). */
  last: T | undefined;
  /** The updates did not end within `wait_s` plus a grace: the wait stopped them. */
  stalled: boolean;
}

export async function waitStream<T>(ctx: Pick<ToolContext<unknown, unknown>, 'signal' | 'progress' | 'handBack'>, spec: WaitSpec<T>): Promise<Waited<T>> {
  const until = (spec.since ?? Date.now()) + spec.waitS * 1000;
  // A hand-back (the server draining) ends the wait as wait_s passing would: the caller gets the handle.
  const { controller: stop, signal, unlink } = linked(ctx.signal, ctx.handBack);
  const cancel = () => void spec.cancel?.().catch(() => undefined);
  ctx.signal.addEventListener('abort', cancel, { once: true });
  const guard = Number.isFinite(until) ? setTimeout(() => stop.abort(new Error('wait over')), Math.max(0, until - Date.now()) + GRACE_MS) : undefined;
  let last: T | undefined;
  try {
    for await (const u of spec.updates(until, signal)) {
      last = u;
      const line = spec.progress?.(u);
      if (line) await ctx.progress(line);
    }
    return { last, stalled: false };
  } catch (err) {
    if (stop.signal.aborted && !ctx.signal.aborted) return { last, stalled: true };
    throw err;
  } finally {
    clearTimeout(guard);
    unlink();
    ctx.signal.removeEventListener('abort', cancel);
  }
}

/** A callback-style wait (`onTick`) as updates: each tick is an update, the result the last one. */
export async function* ticks<T>(run: (onTick: (t: T) => void) => Promise<T>): AsyncGenerator<T> {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let settled: { value?: T; error?: unknown } | undefined;
  run((t) => {
    queue.push(t);
    wake?.();
  }).then(
    (value) => ((settled = { value }), wake?.()),
    (error: unknown) => ((settled = { error }), wake?.()),
  );
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (settled) {
      if ('error' in settled) throw settled.error;
      yield settled.value!;
      return;
    }
    await new Promise<void>((r) => (wake = r));
    wake = undefined;
  }
}
