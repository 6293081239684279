/**
 * Streams as one abstraction. Whatever arrives over time — a polled state (`poll`, the simplest
 * case: a loop of reads), a polled history with a cursor, an SSE stream (sse.ts), a WebSocket
 * (ws.ts) — is an async iterator of events that
 *   - resumes after a drop from the last event's id (SSE `Last-Event-ID`, a `since` cursor),
 *   - retries a dropped or failed source a bounded number of times with backoff,
 *   - stops when the caller breaks out of the loop (the source is closed), and
 *   - stops promptly when the caller's signal aborts (the pending `next()` rejects with an
 *     'aborted' HoodyError).
 */
import { HoodyError, isAmbiguous, toHoodyError } from './errors.js';
import { linked } from '../signals.js';
import { sleep } from './http.js';

export interface StreamEvent<T> {
  /** Where this event sits: passing it back as the resume point continues strictly after it. */
  id?: string;
  /** The event's type (SSE `event:`), when the source has types. */
  type?: string;
  data: T;
}

export interface ResumableOptions<T> {
  /** Open the source once, continuing strictly after `cursor` (undefined: the source's start). */
  open: (cursor: string | undefined, signal: AbortSignal) => AsyncIterable<StreamEvent<T>>;
  /** Where to start: the id of the last event already seen. */
  since?: string;
  signal?: AbortSignal;
  /**
   * When an open source ends without error: ms to wait before opening it again (a poll
   * interval, SSE's retry), or undefined to end the stream. `n` counts the opens so far.
   */
  reopen?: (n: number, last: StreamEvent<T> | undefined) => number | undefined;
  /** Do not open again after this time (epoch ms); the open in flight at it is the last. */
  until?: number;
  /** Consecutive failures that are retried (default 5); the next one is thrown. */
  retries?: number;
  /** Which failures are worth retrying (default: network, unavailable, timeout). */
  retryable?: (err: unknown) => boolean;
  /** For errors: which surface this is ('agent', 'watch', …). */
  source?: string;
  /** Work nobody waits on: its waits do not keep the process alive. */
  background?: boolean;
}

const defaultRetryable = (err: unknown) => isAmbiguous(toHoodyError(err, 'stream'));

function aborted(signal: AbortSignal, source: string): HoodyError {
  return toHoodyError(signal.reason instanceof HoodyError ? signal.reason : new DOMException('aborted', 'AbortError'), source);
}

/** Reject promptly when `signal` aborts, whatever `p` is waiting on. */
function raced<V>(p: Promise<V>, signal: AbortSignal | undefined, source: string): Promise<V> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(aborted(signal, source));
  return new Promise<V>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal, source));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The one stream loop: open, yield, remember the cursor; on a drop reopen from it; stop on abort. */
export async function* resumable<T>(opts: ResumableOptions<T>): AsyncGenerator<StreamEvent<T>> {
  const source = opts.source ?? 'stream';
  const retries = opts.retries ?? 5;
  const retryable = opts.retryable ?? defaultRetryable;
  let cursor = opts.since;
  let last: StreamEvent<T> | undefined;
  let failures = 0;
  for (let n = 0; ; n++) {
    if (opts.signal?.aborted) throw aborted(opts.signal, source);
    const { controller: inner, signal, unlink } = linked(opts.signal);
    const it = opts.open(cursor, signal)[Symbol.asyncIterator]();
    let ended = false; // the source ended by itself: nothing of it is left to stop
    try {
      for (;;) {
        const r = await raced(it.next(), opts.signal, source);
        if (r.done) {
          ended = true;
          break;
        }
        if (r.value.id !== undefined) cursor = r.value.id;
        last = r.value;
        failures = 0;
        yield r.value;
      }
    } catch (err) {
      if (opts.signal?.aborted) throw aborted(opts.signal, source);
      if (!retryable(err) || ++failures > retries) throw err;
      await sleep(Math.min(5_000, 250 * 2 ** (failures - 1)), opts.signal, opts.background).catch(() => {
        throw aborted(opts.signal!, source);
      });
      continue;
    } finally {
      unlink();
      // (an abort costs ~25 µs: a DOMException with its stack, for each read of a poll)
      if (!ended) inner.abort();
      void it.return?.().catch(() => undefined);
    }
    let delay = opts.reopen?.(n, last);
    if (delay === undefined) return;
    if (opts.until !== undefined) {
      if (Date.now() >= opts.until) return;
      delay = Math.min(delay, opts.until - Date.now());
    }
    await sleep(Math.max(0, delay), opts.signal, opts.background).catch(() => {
      throw aborted(opts.signal!, source);
    });
  }
}

export interface PollOptions<T> {
  /** One read of the state. Its errors end the poll (a read that should survive them catches them). */
  read: (signal: AbortSignal) => Promise<T>;
  /** ms before read `n + 1`, given read `n`'s value. */
  interval: (n: number, last: T) => number;
  /** The last read starts at or just after this time (epoch ms); none: until the caller stops. */
  until?: number;
  signal?: AbortSignal;
  source?: string;
  /** Work nobody waits on: its waits do not keep the process alive. */
  background?: boolean;
}

/**
 * "Poll until done": every read's value, one at a time, until the caller breaks out (done), the
 * deadline passes (after one last read at it) or the signal aborts. A failed read ends the poll.
 * A plain loop rather than a resumable stream: between reads nothing is open, so there is no
 * source to stop or resume (a resumable stream of one-read sources cost a controller and an
 * abort per read).
 */
export async function* poll<T>(opts: PollOptions<T>): AsyncGenerator<T> {
  const source = opts.source ?? 'stream';
  const signal = opts.signal ?? NEVER;
  for (let n = 0; ; n++) {
    if (signal.aborted) throw aborted(signal, source);
    let value: T;
    try {
      value = await raced(opts.read(signal), opts.signal, source);
    } catch (err) {
      throw signal.aborted ? aborted(signal, source) : err;
    }
    yield value;
    let delay = opts.interval(n, value);
    if (opts.until !== undefined) {
      if (Date.now() >= opts.until) return;
      delay = Math.min(delay, opts.until - Date.now());
    }
    await sleep(Math.max(0, delay), opts.signal, opts.background).catch(() => {
      throw aborted(signal, source);
    });
  }
}

/** The signal of a poll nobody can stop (background work ends by itself). */
const NEVER = new AbortController().signal;

/**
 * A push source as an async iterable: callbacks push, the consumer pulls. Used to turn
 * WebSocket (and any emitter) events into the one stream shape.
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake?: () => void;
  #ended = false;
  #error: unknown;

  push(v: T): void {
    this.#items.push(v);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(err: unknown): void {
    if (this.#ended) return;
    this.#error = err ?? new Error('stream failed');
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#items.length) {
        yield this.#items.shift()!;
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}
