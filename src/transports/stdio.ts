/**
 * stdio: one client, its credential from the configuration.
 *
 * Resource subscriptions work in both eras: a 2025-era client sends resources/subscribe to the
 * instance; on 2026-07-28 the SDK's entry serves subscriptions/listen itself and only routes the
 * instance's notifications onto open subscriptions, so the inbound stream is tapped here to learn
 * which URIs a listen asks for (and when it is cancelled) and the instance watches them.
 */
import type { JSONRPCMessage, MessageExtraInfo, McpServer, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Config } from '../config.js';
import { subscriptionsOf } from '../mcp/build.js';
import { createServer } from '../server.js';

const say = (s: string) => process.stderr.write(`hoody-mcp: ${s.replace(/\s+/g, ' ').slice(0, 200)}\n`);

/** The SDK's stdio transport with a look at every inbound message before it is dispatched. */
class TappedStdio implements Transport {
  readonly #inner = new StdioServerTransport();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(private readonly tap: (message: JSONRPCMessage) => void) {}

  async start(): Promise<void> {
    this.#inner.onmessage = (message: JSONRPCMessage) => {
      try {
        this.tap(message);
      } catch {
        /* observing must never break dispatch */
      }
      this.onmessage?.(message);
    };
    this.#inner.onclose = () => this.onclose?.();
    this.#inner.onerror = (error) => this.onerror?.(error);
    await this.#inner.start();
  }

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

export function startStdio(config: Config): { close(): Promise<void> } {
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

  return serveStdio(
    ({ era }) => {
      const server = createServer(config, { token: config.token }, { remote: false, subscriptions: 'own' });
      if (era === 'modern') {
        modern = server;
        watch(server, early);
        early = [];
      }
      return server;
    },
    { transport: new TappedStdio(tap), onerror: (err) => say(err.message) },
  );
}
