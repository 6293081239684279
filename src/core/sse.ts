/**
 * Server-sent events as the one stream shape (streams.ts), parsed by eventsource-parser. A drop
 * reconnects with `Last-Event-ID: <last id>`, so the server continues strictly after what was
 * seen; the server's `retry:` sets the reconnect delay. The agent kit streams turns this way.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ensureOk, type HttpResponse } from './http.js';
import { resumable, type StreamEvent } from './streams.js';

export interface SseOptions {
  /**
   * Make the GET that answers `text/event-stream`, with these headers (accept, last-event-id):
   * e.g. `(headers, signal) => kits.request(id, 'agent', { method: 'GET', path, headers, signal })`.
   */
  connect: (headers: Record<string, string>, signal: AbortSignal) => Promise<HttpResponse>;
  /** The surface, for errors ('agent', …). */
  source: string;
  /** Resume after this event id. */
  since?: string;
  signal?: AbortSignal;
  /** Reconnect when the server ends the stream (SSE's rule; default true), or end the iteration. */
  reconnect?: boolean;
  /** Consecutive failed connections retried (default 5). */
  retries?: number;
}

/** Events of one SSE stream, across reconnects: `{id, type (default 'message'), data}`. */
export function sse(opts: SseOptions): AsyncGenerator<StreamEvent<string>> {
  let retryMs = 1_000;
  return resumable<string>({
    source: opts.source,
    since: opts.since,
    signal: opts.signal,
    retries: opts.retries,
    open: (cursor, signal) => openOnce(opts, cursor, signal, (ms) => (retryMs = ms)),
    reopen: () => (opts.reconnect === false ? undefined : retryMs),
  });
}

async function* openOnce(
  opts: SseOptions,
  cursor: string | undefined,
  signal: AbortSignal,
  onRetry: (ms: number) => void,
): AsyncGenerator<StreamEvent<string>> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
  if (cursor !== undefined) headers['last-event-id'] = cursor;
  const res = await ensureOk(await opts.connect(headers, signal), opts.source);
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e), onRetry });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    while (queue.length) {
      const e = queue.shift()!;
      yield { id: e.id, type: e.event ?? 'message', data: e.data };
    }
  }
}
