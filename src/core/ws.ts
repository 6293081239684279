/**
 * WebSocket (the `ws` library) as the one stream shape (streams.ts). `connectWs` is one
 * connection, both ways (send + an async iterator of messages) — what a browser/CDP session
 * needs; `wsStream` is a resumable feed: after a drop it reconnects to `url(lastId)`, so a server
 * that takes a `since`/cursor continues strictly after what was seen.
 */
import WebSocket from 'ws';
import { HoodyError, toHoodyError } from './errors.js';
import { localhostLookup } from './http.js';
import { Channel, resumable, type StreamEvent } from './streams.js';

export interface WsConnection extends AsyncIterable<string> {
  send(data: string): Promise<void>;
  close(): void;
}

/**
 * Open one WebSocket. Messages arrive through the iterator; a normal close ends it, anything
 * else (a drop, an error) fails it with a network HoodyError; the signal terminates it.
 */
export async function connectWs(url: URL, opts: { source: string; headers?: Record<string, string>; signal?: AbortSignal; openTimeoutMs?: number }): Promise<WsConnection> {
  const socket = new WebSocket(url, { headers: opts.headers, lookup: localhostLookup, handshakeTimeout: opts.openTimeoutMs ?? 15_000 });
  const messages = new Channel<string>();
  const lost = (what: string) =>
    new HoodyError({ kind: 'network', source: opts.source, message: `the ${opts.source} WebSocket ${what}` });
  const onAbort = () => {
    messages.fail(toHoodyError(new DOMException('aborted', 'AbortError'), opts.source));
    socket.terminate();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  socket.on('message', (data, isBinary) => messages.push(isBinary ? Buffer.from(data as Buffer).toString('base64') : data.toString()));
  socket.on('close', (code) => {
    opts.signal?.removeEventListener('abort', onAbort);
    if (code === 1000) messages.end();
    else messages.fail(lost(`closed (${code})`));
  });
  socket.on('error', (err) => messages.fail(toHoodyError(err, opts.source)));
  await new Promise<void>((resolve, reject) => {
    if (opts.signal?.aborted) onAbort();
    socket.once('open', () => resolve());
    socket.once('error', (err) => reject(toHoodyError(err, opts.source)));
    socket.once('close', (code) => reject(lost(`closed before it opened (${code})`)));
    opts.signal?.addEventListener('abort', () => reject(toHoodyError(new DOMException('aborted', 'AbortError'), opts.source)), { once: true });
  });
  return {
    [Symbol.asyncIterator]: () => messages[Symbol.asyncIterator](),
    send: (data) => new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(toHoodyError(err, opts.source)) : resolve()))),
    close: () => socket.close(1000),
  };
}

export interface WsStreamOptions<T> {
  /** The URL to (re)connect to, resuming after `cursor` (e.g. `?since=<cursor>`). */
  url: (cursor: string | undefined) => URL;
  source: string;
  headers?: Record<string, string>;
  since?: string;
  signal?: AbortSignal;
  /** A message → its value (default: JSON, or the text when it is not JSON). */
  parse?: (text: string) => T;
  /** The resume point a message carries (its sequence number, event id…). */
  idOf?: (value: T) => string | undefined;
  /** Reconnect after a normal close too (default false: a normal close ends the stream). */
  reconnect?: boolean;
  retries?: number;
}

const parseDefault = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** A resumable WebSocket feed: `{id, data}` per message, reconnecting from the last id after a drop. */
export function wsStream<T = unknown>(opts: WsStreamOptions<T>): AsyncGenerator<StreamEvent<T>> {
  const parse = opts.parse ?? (parseDefault as (t: string) => T);
  return resumable<T>({
    source: opts.source,
    since: opts.since,
    signal: opts.signal,
    retries: opts.retries,
    reopen: () => (opts.reconnect ? 250 : undefined),
    open: async function* (cursor, signal) {
      const conn = await connectWs(opts.url(cursor), { source: opts.source, headers: opts.headers, signal });
      try {
        for await (const text of conn) {
          const data = parse(text);
          yield { id: opts.idOf?.(data), data };
        }
      } finally {
        conn.close();
      }
    },
  });
}
