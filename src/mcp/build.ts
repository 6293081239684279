/**
 * buildMcpServer: tool and resource definitions + the app's deps → one McpServer instance.
 * Each handler runs with a context (deps, abort signal, progress) and its result passes the
 * budget check; anything thrown becomes an isError result that says what to do.
 */
import { isInputRequiredResult, McpServer, ResourceTemplate, UriTemplate, type CallToolResult, type InputRequiredResult, type RequestStateCodec, type ServerContext } from '@modelcontextprotocol/server';
import { askerFor, requestStateCodec } from './ask.js';
import { confirmCall, type ConfirmMode } from './confirm.js';
import type { PromptDefinition } from './define-prompt.js';
import * as z from 'zod';
import type { ResourceDefinition } from './define-resource.js';
import { annotationsFor, DEFAULT_DEADLINE_S, inputOf, type AnyTool, type ToolContext } from './define-tool.js';
import { describe, enforceBudget, errorResult, fail, plainErrors, Reply, type DescribeError } from './result.js';
import { clientSchema } from './schema.js';
import { createSubscriptions, type Subscriptions } from './subscriptions.js';
import { linked } from '../signals.js';
import { observe, type CallEvent } from '../observe.js';

export interface BuildOptions<D> {
  /** Prompts; each is offered only when the tools it requires are. */
  prompts?: readonly PromptDefinition[];
  /** An opaque tag of the credential: a 2026-07-28 requestState minted for one principal is refused for another. */
  principal?: string;
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
  /** Aborted when waiting calls should hand back their handle now (the server is draining). */
  handBack?: AbortSignal;
  /**
   * Offer resource subscriptions: `'own'` watches for this instance and notifies through its
   * connection (stdio); a shared controller is the transport's (2026-07-28 HTTP listens). Only a
   * connection that carries notifications after the request that asked can offer them.
   */
  subscriptions?: 'own' | Subscriptions;
  /** Words for errors (tool and resource errors): what happened — what to do. Default: message — hint. */
  describeError?: DescribeError;
  /** What a result, progress line or error may not show (credentials, capabilities): hidden at this boundary. */
  redact?: Redact;
  /** Whether a call may run now (limits): a release for when it ends, or why not. */
  admit?: Admission;
  /** What a call with a `confirm` question does first (default ask). */
  confirm?: ConfirmMode;
  /**
   * This instance serves one `tools/call` of this tool and nothing else (a stateless HTTP
   * exchange): only that tool is registered — no other tool, resource or prompt can be reached
   * from it, and registering the 42 costs more than the call's own work in the shell.
   */
  onlyTool?: string;
}

export type Redact = (text: string, opts: { keepLinks: boolean }) => string;

/** Every text of a result (content and structured) through `redact`. */
function redactResult(r: CallToolResult, redact: Redact, keepLinks: boolean): CallToolResult {
  const opts = { keepLinks };
  const content = r.content.map((c) => {
    if (c.type !== 'text') return c;
    const text = redact(c.text, opts);
    return text === c.text ? c : { ...c, text };
  });
  // Parsed back only when something was hidden: the JSON sent is the same either way.
  let structuredContent = r.structuredContent;
  if (structuredContent) {
    const json = JSON.stringify(structuredContent);
    const clean = redact(json, opts);
    if (clean !== json) structuredContent = JSON.parse(clean) as Record<string, unknown>;
  }
  return { ...r, content, ...(structuredContent ? { structuredContent } : {}) };
}

/** Admission of one tool call: `release` when it ends, or a refusal with what to do. */
export type Admitted = { release(): void } | { refuse: string; hint?: string };
/**
 * `deadlineS`: the call's deadline (null: none), a bound on how long it may hold its place.
 * Synchronous on one machine; a promise when the limits are counted across replicas.
 */
export type Admission = (tool: string, args: unknown, deadlineS: number | null) => Admitted | Promise<Admitted>;

/**
 * Progress for one call. Besides what the handler reports, a heartbeat goes out whenever nothing
 * was sent for HEARTBEAT_MS, so every call that waits reports at least that often (clients reset
 * their timeouts on progress).
 */
const HEARTBEAT_MS = 10_000;

function progressReporter(ctx: ServerContext, redact?: Redact): { report: (message: string) => Promise<void>; enabled: boolean; stop: () => void } {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return { report: async () => undefined, enabled: false, stop: () => undefined };
  let n = 0;
  const started = Date.now();
  let last = started;
  const report = async (message: string) => {
    n += 1;
    last = Date.now();
    await ctx.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken: token, progress: n, message: redact ? redact(message, { keepLinks: false }) : message } })
      .catch(() => undefined);
  };
  const timer = setInterval(() => {
    if (Date.now() - last >= HEARTBEAT_MS - 50) void report(`working · ${Math.round((Date.now() - started) / 1000)} s`);
  }, HEARTBEAT_MS / 2);
  timer.unref();
  return { report, enabled: true, stop: () => clearInterval(timer) };
}

/**
 * One tool call: its deadline, its scope resolved, its handler run, its result built within the
 * budget. A call never outlives its deadline: what is still pending is aborted and the caller
 * gets an error that says so.
 */
interface Asking {
  codec: RequestStateCodec<Record<string, unknown>>;
  capabilities: () => { elicitation?: unknown } | undefined;
}

async function runTool<D>(def: AnyTool<D>, args: Record<string, unknown>, ctx: ServerContext, opts: BuildOptions<D>, asking: Asking): Promise<CallToolResult | InputRequiredResult> {
  const admitted = opts.admit?.(def.name, args, def.deadline ? def.deadline(args) : DEFAULT_DEADLINE_S);
  const gate = (admitted instanceof Promise ? await admitted : admitted) ?? { release: () => undefined };
  if ('refuse' in gate) return refused(fail(gate.refuse, gate.hint));
  try {
    // Asked before the deadline starts: the person gets the question's own 30 s.
    const q = def.confirm?.(args as never);
    const verdict = q ? await confirmCall(def.name, opts.redact ? opts.redact(q, { keepLinks: false }) : q, args, opts.confirm ?? 'ask', askerFor(ctx, asking.codec, asking.capabilities()), ctx.mcpReq.signal) : { run: true as const };
    if (!verdict.run) return isInputRequiredResult(verdict.result) ? verdict.result : refused(verdict.result);
    const r = await runAdmitted(def, args, ctx, opts, asking);
    if (isInputRequiredResult(r)) return r;
    const noted = verdict.note ? { ...r, content: [...r.content, { type: 'text' as const, text: verdict.note }] } : r;
    return opts.redact ? redactResult(noted, opts.redact, !!def.showsLinks) : noted;
  } finally {
    gate.release();
  }
}

async function runAdmitted<D>(def: AnyTool<D>, args: Record<string, unknown>, ctx: ServerContext, opts: BuildOptions<D>, asking: Asking): Promise<CallToolResult | InputRequiredResult> {
  const progress = progressReporter(ctx, opts.redact);
  const seconds = def.deadline ? def.deadline(args) : DEFAULT_DEADLINE_S;
  // Aborted by the client's cancel, the instance's end or the deadline (the controller itself).
  const { controller: deadline, signal, unlink } = linked(ctx.mcpReq.signal, opts.signal);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<CallToolResult | InputRequiredResult>((resolve) => {
    if (seconds === null) return;
    timer = setTimeout(() => {
      deadline.abort(new Error(`deadline of ${seconds} s passed`));
      resolve(fail(`no answer within ${seconds} s`, 'the platform did not respond in time; try again shortly (a write may still have happened: check before repeating it)'));
    }, seconds * 1000);
  });
  const work = async (): Promise<CallToolResult | InputRequiredResult> => {
    if (opts.remote && def.localOnly) return fail(`${def.name} is not available on a remote server`, def.localOnly);
    const deps = () => opts.deps();
    const scope = def.scope ? await def.scope.resolve(args, deps(), signal) : undefined;
    let asker: ToolContext<D, unknown>['asker'] | undefined;
    const toolCtx: ToolContext<D, unknown> = {
      get deps() {
        return deps();
      },
      signal,
      scope,
      progress: progress.report,
      canReportProgress: progress.enabled,
      handBack: opts.handBack,
      // Made when a handler asks (few do): it reads the request's state and the client's capabilities.
      get asker() {
        return (asker ??= askerFor(ctx, asking.codec, asking.capabilities()));
      },
    };
    const r = await def.handler(args as never, toolCtx);
    if (isInputRequiredResult(r)) return r;
    return r instanceof Reply ? r.build() : enforceBudget(r as CallToolResult);
  };
  try {
    return await Promise.race([work(), expired]);
  } catch (err) {
    return errorResult(err, opts.describeError);
  } finally {
    clearTimeout(timer);
    unlink();
    progress.stop();
  }
}

/** Results of calls refused before they ran (limits, a declined confirmation): counted as `refused`. */
const refusals = new WeakSet<object>();
const refused = <R extends object>(r: R): R => (refusals.add(r), r);

/** A finished call, for the metrics: its outcome and how long it took. */
function observed(tool: string, transport: CallEvent['transport'], started: number, signal: AbortSignal, r: CallToolResult | InputRequiredResult | undefined): void {
  const outcome: CallEvent['outcome'] = signal.aborted ? 'cancelled' : !r ? 'error' : refusals.has(r) ? 'refused' : (r as CallToolResult).isError ? 'error' : 'ok';
  observe.call({ tool, transport, ms: performance.now() - started, outcome });
}

/**
 * What registerTool gets for a definition, made once per definition and shared by every instance
 * built from it (HTTP builds one per request): the strict schema (zod compiles its parser on the
 * first call, and its JSON Schema is made once, see clientSchema) and the annotations.
 */
const registrations = new WeakMap<AnyTool, { title: string; description: string; inputSchema: ReturnType<typeof clientSchema>; annotations: ReturnType<typeof annotationsFor> }>();
function registrationOf(def: AnyTool) {
  let r = registrations.get(def);
  if (!r) registrations.set(def, (r = { title: def.title, description: def.description, inputSchema: clientSchema(inputOf(def)), annotations: annotationsFor(def) }));
  return r;
}

/** A resource template's parsed URI template, once per definition (matching is pure). */
const uriTemplates = new WeakMap<ResourceDefinition<unknown>, UriTemplate>();
function uriTemplateOf(r: ResourceDefinition<unknown>): UriTemplate {
  let t = uriTemplates.get(r);
  if (!t) uriTemplates.set(r, (t = new UriTemplate(r.uri)));
  return t;
}

const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
const SET_LEVEL = { params: z.looseObject({ level: z.enum(LOG_LEVELS, { error: `level must be one of ${LOG_LEVELS.join(', ')}` }) }) };

const callsByServer = new WeakMap<McpServer, Set<Promise<unknown>>>();

/** Resolves when the tool calls in flight on these servers have ended (or after `timeoutMs`). */
export async function callsSettled(servers: readonly McpServer[], timeoutMs: number): Promise<void> {
  const calls = servers.flatMap((s) => [...(callsByServer.get(s) ?? [])]);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
  await Promise.race([Promise.allSettled(calls), late]);
  clearTimeout(timer);
}

const subscriptionsByServer = new WeakMap<McpServer, Subscriptions>();

/** The subscription controller a server serves resources/subscribe with, if it offers them. */
export function subscriptionsOf(server: McpServer): Subscriptions | undefined {
  return subscriptionsByServer.get(server);
}

/**
 * resources/subscribe and unsubscribe through a controller: the instance's own (notifying
 * through this connection, stopped when it closes) or a shared one the transport owns.
 */
function registerSubscriptions<D>(server: McpServer, opts: BuildOptions<D>) {
  const own = opts.subscriptions === 'own';
  const subs = own
    ? createSubscriptions(opts.resources, opts.deps, (uri) => void server.server.sendResourceUpdated({ uri }).catch(() => undefined), opts.describeError)
    : (opts.subscriptions as Subscriptions);
  subscriptionsByServer.set(server, subs);
  const mine = new Set<string>();
  server.server.setRequestHandler('resources/subscribe', async (req) => {
    if (mine.has(req.params.uri)) return {};
    await subs.add(req.params.uri);
    mine.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (req) => {
    if (mine.delete(req.params.uri)) subs.remove(req.params.uri);
    return {};
  });
  const previous = server.server.onclose;
  server.server.onclose = () => {
    if (own) subs.close();
    else for (const uri of mine) subs.remove(uri);
    mine.clear();
    previous?.();
  };
}

/** Each resource (fixed or template) with its list, completion and read. */
function registerResources<D>(server: McpServer, opts: BuildOptions<D>): void {
  for (const r of opts.resources) {
    const meta = { title: r.title, description: r.description, ...(r.mimeType ? { mimeType: r.mimeType } : {}) };
    const rctx = (ctx: ServerContext) => ({
      get deps() {
        return opts.deps();
      },
      signal: ctx.mcpReq.signal,
    });
    if (!r.uri.includes('{')) {
      server.registerResource(r.name, r.uri, meta, (uri, ctx) => plainErrors(r.read(uri, {}, rctx(ctx)), opts.describeError));
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
    const template = new ResourceTemplate(uriTemplateOf(r as ResourceDefinition<unknown>), {
      // Clients list resources at connect (Codex does): a failure there must not fail the
      // connection, so it lists nothing and the reason surfaces on the first real call.
      list: r.list ? async (ctx) => ({ resources: await r.list!(rctx(ctx)).catch(() => []) }) : undefined,
      complete,
    });
    server.registerResource(r.name, template, meta, (uri, vars, ctx) => {
      const flat = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]));
      return plainErrors(r.read(uri, flat, rctx(ctx)), opts.describeError);
    });
  }
}

export function buildMcpServer<D>(given: BuildOptions<D>): McpServer {
  // Errors are words for a model: they pass the scrubber like results (resources, subscriptions too).
  const redact = given.redact;
  const opts: BuildOptions<D> = redact ? { ...given, describeError: (err) => redact(describe(err, given.describeError), { keepLinks: false }) } : given;
  const codec = requestStateCodec(opts.principal ?? '');
  const server = new McpServer(
    { name: opts.name, version: opts.version },
    {
      capabilities: { tools: {}, resources: opts.subscriptions ? { subscribe: true } : {}, prompts: {}, completions: {}, logging: {} },
      instructions: opts.instructions,
      // 2026-07-28 rounds: an echoed requestState is verified (HMAC, expiry, credential) before a handler sees it.
      requestState: { verify: codec.verify },
    },
  );
  const asking: Asking = { codec, capabilities: () => server.server.getClientCapabilities() };

  // A bad level is invalid params in a few words (the SDK's own handler answers -32603 with a
  // validation dump). This server sends no log messages, so there is no level to keep.
  server.server.setRequestHandler('logging/setLevel', SET_LEVEL, async () => ({}));
  const calls = new Set<Promise<unknown>>();
  callsByServer.set(server, calls);
  const transport = opts.remote ? 'http' : 'stdio';
  const only = opts.onlyTool;
  for (const def of only === undefined ? opts.tools : opts.tools.filter((t) => t.name === only)) {
    server.registerTool(
      def.name,
      registrationOf(def),
      ((args: unknown, ctx: ServerContext) => {
        const started = performance.now();
        const run = runTool(def, args as Record<string, unknown>, ctx, opts, asking);
        calls.add(run);
        return run.then(
          (r) => (calls.delete(run), observed(def.name, transport, started, ctx.mcpReq.signal, r), r),
          (err: unknown) => {
            calls.delete(run);
            observed(def.name, transport, started, ctx.mcpReq.signal, undefined);
            throw err;
          },
        );
      }) as never,
    );
  }

  if (opts.subscriptions) registerSubscriptions(server, opts);
  if (only !== undefined) return server;
  const offered = new Set(opts.tools.map((t) => t.name));
  for (const p of opts.prompts ?? []) {
    if (!p.requires.every((t) => offered.has(t))) continue;
    server.registerPrompt(p.name, { title: p.title, description: p.description, argsSchema: p.args }, ((args: Record<string, string | undefined>) => p.render(args ?? {})) as never);
  }
  registerResources(server, opts);
  return server;
}
