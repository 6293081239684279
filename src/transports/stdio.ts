/**
 * stdio: one client, its credential from the configuration.
 *
 * Resource subscriptions work in both eras: a 2025-era client sends resources/subscribe to the
 * instance; on 2026-07-28 the SDK's entry serves subscriptions/listen itself and only routes the
 * instance's notifications onto open subscriptions, so the inbound stream is tapped here to learn
 * which URIs a listen asks for (and when it is cancelled) and the instance watches them.
 */
import { PassThrough } from 'node:stream';
import type { JSONRPCMessage, MessageExtraInfo, McpServer, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Config } from '../config.js';
import { whenIdle } from '../core/http.js';
import { callsSettled, subscriptionsOf } from '../mcp/build.js';
import { createServer } from '../server.js';
import { idFromHead, inspect, LineReader, overLimit } from './lines.js';

const say = (s: string) => process.stderr.write(`hoody-mcp: ${s.replace(/\s+/g, ' ').slice(0, 200)}\n`);

/** How long a departing client's in-flight calls get to stop their remote work. */
const DRAIN_MS = 8_000;

/**
 * stdio with a bounded reader (see lines.ts): an oversize or malformed message is answered and
 * the next one served. Every inbound message passes `tap` first.
 */
class BoundedStdio implements Transport {
  // The SDK's transport writes (its framing and back-pressure); reading is ours.
  readonly #out = new StdioServerTransport(new PassThrough(), process.stdout);
  readonly #reader: LineReader;
  #closed = false;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(
    private readonly tap: (message: JSONRPCMessage) => void,
    private readonly maxBytes: number,
  ) {
    this.#reader = new LineReader(maxBytes, (line) => this.#line(line), (head, bytes) => this.#oversize(head, bytes));
  }

  async start(): Promise<void> {
    await this.#out.start();
    process.stdin.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    process.stdin.once('end', () => void this.close());
    process.stdin.once('close', () => void this.close());
  }

  #line(line: string): void {
    const r = inspect(line);
    if (r.kind === 'error') return void this.#answer(r.id, r.code, r.message);
    if (r.kind === 'ignore') return;
    const message = r.message as JSONRPCMessage;
    try {
      this.tap(message);
    } catch {
      /* observing must never break dispatch */
    }
    this.onmessage?.(message);
  }

  #oversize(head: string, bytes: number): void {
    const id = idFromHead(head);
    const message = overLimit(`a message of ${bytes} bytes`, this.maxBytes, '--max-message-bytes', 'HOODY_MAX_MESSAGE_BYTES');
    say(message);
    void this.#answer(id ?? null, -32600, message);
  }

  #answer(id: string | number | null, code: number, message: string): Promise<void> {
    return this.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage);
  }

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    // A client that went away cannot be written to: nothing to report.
    return this.#closed ? Promise.resolve() : this.#out.send(message).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#out.close().catch(() => undefined);
    this.onclose?.();
  }
}

export function startStdio(config: Config): { close(): Promise<void> } {
  // Aborted when the client goes: every in-flight call stops its remote work (the wait helper cancels it).
  const gone = new AbortController();
  let modern: McpServer | undefined;
  const listens = new Map<string | number, string[]>();
  // A listen can be the connection's first message, seen here before the instance exists.
  let early: string[] = [];

  const watch = (server: McpServer, uris: string[]) => {
    const subs = subscriptionsOf(server);
    for (const uri of uris) subs?.add(uri).catch((err: Error) => say(`cannot watch ${uri}: ${err.message}`));
  };

  const tap = (m: JSONRPCMessage) => {
    const msg = m as { id?: string | number; method?: string; params?: Record<string, unknown> };
    if (msg.method === 'subscriptions/listen' && msg.id !== undefined) {
      const uris = ((msg.params?.notifications as { resourceSubscriptions?: unknown })?.resourceSubscriptions ?? []) as unknown[];
      const wanted = uris.filter((u): u is string => typeof u === 'string');
      listens.set(msg.id, wanted);
      if (modern) watch(modern, wanted);
      else early.push(...wanted);
    } else if (msg.method === 'notifications/cancelled') {
      const id = msg.params?.requestId as string | number | undefined;
      const uris = id !== undefined ? listens.get(id) : undefined;
      if (!uris) return;
      listens.delete(id!);
      const subs = modern && subscriptionsOf(modern);
      for (const uri of uris) subs?.remove(uri);
    }
  };

  const servers: McpServer[] = [];
  const wire = new BoundedStdio(tap, config.maxMessageBytes);
  const handle = serveStdio(
    ({ era }) => {
      const server = createServer(config, { token: config.token }, { remote: false, subscriptions: 'own', signal: gone.signal });
      servers.push(server);
      if (era === 'modern') {
        modern = server;
        watch(server, early);
        early = [];
      }
      return server;
    },
    { transport: wire, onerror: (err) => say(err.message) },
  );
  return {
    close: async () => {
      gone.abort(new DOMException('the client went away', 'AbortError'));
      // The calls end (their handlers saw the abort), then the cancels they set off finish.
      const until = Date.now() + DRAIN_MS;
      await callsSettled(servers, DRAIN_MS);
      await whenIdle(Math.max(0, until - Date.now()));
      await handle.close();
    },
  };
}
