/**
 * buildMcpServer: tool and resource definitions + the app's deps → one McpServer instance.
 * Each handler runs with a context (deps, abort signal, progress) and its result passes the
 * budget check; anything thrown becomes an isError result that says what to do.
 */
import { McpServer, ResourceTemplate, UriTemplate, type ServerContext } from '@modelcontextprotocol/server';
import type { ResourceDefinition } from './define-resource.js';
import { annotationsFor, type AnyTool, type ToolContext } from './define-tool.js';
import { enforceBudget, errorResult } from './result.js';
import { clientSchema } from './schema.js';

export interface BuildOptions<D> {
  name: string;
  version: string;
  instructions?: string;
  tools: readonly AnyTool<D>[];
  resources: readonly ResourceDefinition<D>[];
  /** Dependencies, made on first use (no work before the first call: initialize stays instant). */
  deps: () => D;
  remote: boolean;
  /** Aborts this instance's work from outside the protocol (e.g. a cancel that reached another instance). */
  signal?: AbortSignal;
  /**
   * Offer resource subscriptions. Only a connection that can carry notifications after the
   * request that asked for them can: a stdio session, not a stateless HTTP request.
   */
  subscriptions?: boolean;
}

/**
 * Progress for one call. Besides what the handler reports, a heartbeat goes out whenever nothing
 * was sent for HEARTBEAT_MS, so every call that waits reports at least that often (clients reset
 * their timeouts on progress).
 */
const HEARTBEAT_MS = 10_000;

function progressReporter(ctx: ServerContext): { report: (message: string) => Promise<void>; enabled: boolean; stop: () => void } {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return { report: async () => undefined, enabled: false, stop: () => undefined };
  let n = 0;
  const started = Date.now();
  let last = started;
  const report = async (message: string) => {
    n += 1;
    last = Date.now();
    await ctx.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken: token, progress: n, message } })
      .catch(() => undefined);
  };
  const timer = setInterval(() => {
    if (Date.now() - last >= HEARTBEAT_MS - 50) void report(`working · ${Math.round((Date.now() - started) / 1000)} s`);
  }, HEARTBEAT_MS / 2);
  timer.unref();
  return { report, enabled: true, stop: () => clearInterval(timer) };
}

/**
 * Resource subscriptions of one server instance: each subscribed URI is matched against the
 * templates that can watch, and watched until every subscriber has left or the connection
 * closes; changes go out as notifications/resources/updated. 2025-era clients reach it through
 * resources/subscribe; on 2026-07-28 the transport feeds it the URIs of subscriptions/listen.
 */
export interface Subscriptions {
  add(uri: string): Promise<void>;
  remove(uri: string): void;
}

const subscriptionsByServer = new WeakMap<McpServer, Subscriptions>();

/** The subscription controller of a server built with `subscriptions: true`. */
export function subscriptionsOf(server: McpServer): Subscriptions | undefined {
  return subscriptionsByServer.get(server);
}

function registerSubscriptions<D>(server: McpServer, opts: BuildOptions<D>) {
  const watching = new Map<string, { ac: AbortController; refs: number }>();
  const templates = opts.resources
    .filter((r) => r.subscribe && r.uri.includes('{'))
    .map((r) => ({ r, t: new UriTemplate(r.uri) }));
  const subs: Subscriptions = {
    async add(uri) {
      const w = watching.get(uri);
      if (w) return void (w.refs += 1);
      for (const { r, t } of templates) {
        const vars = t.match(uri);
        if (!vars) continue;
        const flat = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]));
        const entry = { ac: new AbortController(), refs: 1 };
        watching.set(uri, entry);
        const ctx = { get deps() { return opts.deps(); }, signal: entry.ac.signal };
        try {
          await plainErrors(r.subscribe!(new URL(uri), flat, ctx, () => void server.server.sendResourceUpdated({ uri }).catch(() => undefined)));
        } catch (err) {
          watching.delete(uri);
          entry.ac.abort();
          throw err;
        }
        return;
      }
      throw new Error(`${uri} cannot be subscribed to — only hoody://containers/{container}/files/{+path} can`);
    },
    remove(uri) {
      const w = watching.get(uri);
      if (!w || --w.refs > 0) return;
      w.ac.abort();
      watching.delete(uri);
    },
  };
  subscriptionsByServer.set(server, subs);
  server.server.setRequestHandler('resources/subscribe', async (req) => {
    if (!watching.has(req.params.uri)) await subs.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (req) => {
    subs.remove(req.params.uri);
    return {};
  });
  const previous = server.server.onclose;
  server.server.onclose = () => {
    for (const w of watching.values()) w.ac.abort();
    watching.clear();
    previous?.();
  };
}

/** Resource errors travel as JSON-RPC errors: keep their message and hint, drop everything else. */
async function plainErrors<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const e = err as { message?: string; hint?: string };
    throw new Error(e?.hint ? `${e.message} — ${e.hint}` : (e?.message ?? 'unexpected failure'));
  }
}

export function buildMcpServer<D>(opts: BuildOptions<D>): McpServer {
  const server = new McpServer(
    { name: opts.name, version: opts.version },
    {
      // prompts: none yet, but clients (Claude Code, the conformance suite) call prompts/list regardless.
      capabilities: { tools: {}, resources: opts.subscriptions ? { subscribe: true } : {}, prompts: {}, completions: {}, logging: {} },
      instructions: opts.instructions,
    },
  );

  for (const def of opts.tools) {
    const d = def;
    server.registerTool(
      d.name,
      { title: d.title, description: d.description, inputSchema: clientSchema(d.input), annotations: annotationsFor(d) },
      async (args: unknown, ctx: ServerContext) => {
        const progress = progressReporter(ctx);
        const toolCtx: ToolContext<D> = {
          get deps() {
            return opts.deps();
          },
          signal: opts.signal ? AbortSignal.any([ctx.mcpReq.signal, opts.signal]) : ctx.mcpReq.signal,
          remote: opts.remote,
          progress: progress.report,
          canReportProgress: progress.enabled,
        };
        try {
          return enforceBudget(await d.handler(args as never, toolCtx));
        } catch (err) {
          return errorResult(err);
        } finally {
          progress.stop();
        }
      },
    );
  }

  if (opts.subscriptions) registerSubscriptions(server, opts);

  for (const r of opts.resources) {
    const meta = { title: r.title, description: r.description, ...(r.mimeType ? { mimeType: r.mimeType } : {}) };
    const rctx = (ctx: ServerContext) => ({
      get deps() {
        return opts.deps();
      },
      signal: ctx.mcpReq.signal,
    });
    if (!r.uri.includes('{')) {
      server.registerResource(r.name, r.uri, meta, (uri, ctx) => plainErrors(r.read(uri, {}, rctx(ctx))));
      continue;
    }
    const complete = r.complete
      ? Object.fromEntries(
          // Completion is a convenience: any failure (no token, Hoody unreachable) offers nothing.
          Object.entries(r.complete).map(([k, fn]) => [
            k,
            async (value: string) => {
              try {
                return await fn(value, opts.deps());
              } catch {
                return [] as string[];
              }
            },
          ]),
        )
      : undefined;
    const template = new ResourceTemplate(r.uri, {
      // Clients list resources at connect (Codex does): a failure there must not fail the
      // connection, so it lists nothing and the reason surfaces on the first real call.
      list: r.list ? async (ctx) => ({ resources: await r.list!(rctx(ctx)).catch(() => []) }) : undefined,
      complete,
    });
    server.registerResource(r.name, template, meta, (uri, vars, ctx) => {
      const flat = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]));
      return plainErrors(r.read(uri, flat, rctx(ctx)));
    });
  }
  return server;
}
