/**
 * createServer: the one factory both transports use. Wires the Hoody core (deps) to the MCP shell
 * (tool and resource definitions). Nothing here does I/O: the first network request happens at
 * the first tool call.
 */
import { createHash } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/server';
import { allResources } from '../resources/index.js';
import { describeError } from '../tools/errors.js';
import { allTools } from '../tools/index.js';
import { allPrompts } from '../tools/prompts.js';
import { TOOLSETS } from '../tools/toolsets.js';
import type { Config } from './config.js';
import { admissionFor } from './limits.js';
import { HoodyError } from './core/errors.js';
import { Secrets } from './core/secrets.js';
import { hoodyFor, type Hoody } from './core/hoody.js';
import { Lru } from './core/lru.js';
import { buildMcpServer } from './mcp/build.js';
import { readOnlyView, type AnyTool } from './mcp/define-tool.js';
import { selectTools } from './mcp/registry.js';
import { createSubscriptions, type Subscriptions } from './mcp/subscriptions.js';
import { VERSION } from './version.js';

export interface Credentials {
  token?: string;
}

/** What the model reads once: the offered toolsets (from tools/toolsets.ts) and the conventions tools share. */
function instructionsFor(tools: readonly AnyTool[]): string {
  const sets = TOOLSETS.filter((s) => tools.some((t) => t.toolset === s.id)).map((s) => `${s.id} (${s.description})`);
  const has = (name: string) => tools.some((t) => t.name === name);
  return [
    `Drives Hoody cloud containers. Toolsets: ${sets.join('; ')}.`,
    `Tools take \`container\` (id or name${has('container_list') ? '; container_list shows them' : ''}). Containers persist.`,
    ...(has('exec_run') ? ['exec_run starts a fresh shell each call and returns a job handle if it outlives wait_s.'] : []),
    'File paths are absolute container paths (~ = /home/user).',
  ].join(' ');
}

/** A narrower selection one request may ask for (HTTP headers X-Hoody-Toolsets/-Tools/-Read-Only). */
export interface Scope {
  toolsets?: string[];
  tools?: string[];
  readOnly?: boolean;
}

/**
 * The tools this configuration offers; throws ConfigError for unknown names (checked at start).
 * A scope narrows them, never widens: a tool must be offered by both, read-only if either says so.
 */
export function toolsFor(config: Config, scope?: Scope) {
  const offered = selectTools(allTools, {
    toolsets: config.toolsets,
    tools: config.tools,
    excludeTools: config.excludeTools,
    readOnly: config.readOnly,
  }, TOOLSETS);
  if (!scope) return offered;
  const asked = new Set(selectTools(allTools, { toolsets: scope.toolsets ?? ['all'], tools: scope.tools }, TOOLSETS).map((t) => t.name));
  return offered.flatMap((t) => (!asked.has(t.name) ? [] : scope.readOnly ? (readOnlyView(t) ?? []) : [t]));
}

const hoodyConfig = (config: Config) => ({ apiUrl: config.apiUrl, realm: config.realm, defaultContainer: config.container, shared: config.shared });

/** Whether Hoody has accepted this credential (it made a successful request). */
export const credentialAccepted = (config: Config, token: string): boolean => hoodyFor(hoodyConfig(config), token).control.accepted;

/** Ask Hoody whether it accepts this credential (once; remembered). */
export const verifyCredential = (config: Config, token: string, signal?: AbortSignal): Promise<boolean> => hoodyFor(hoodyConfig(config), token).control.verify(signal);

/** The Hoody view of a credential, made on first use; says how to provide one when there is none. */
function depsFor(config: Config, credentials: Credentials, remote: boolean): (() => Hoody) & { peek(): Hoody | undefined } {
  let hoody: Hoody | undefined;
  const get = () => {
    if (!credentials.token) {
      throw new HoodyError({
        kind: 'auth',
        source: 'config',
        message: 'no Hoody token',
        hint: remote ? 'send Authorization: Bearer <hdy_ token>' : 'set HOODY_TOKEN or pass --token (or try --sim)',
      });
    }
    hoody ??= hoodyFor(hoodyConfig(config), credentials.token);
    return hoody;
  };
  return Object.assign(get, { peek: () => hoody });
}

/** The scrubber of a credential's results: its Hoody view's secrets, or (before it exists) the token and credential shapes. */
function redactFor(deps: { peek(): Hoody | undefined }, token: string | undefined) {
  let early: Secrets | undefined;
  return (text: string, opts: { keepLinks: boolean }) => {
    const secrets = deps.peek()?.secrets ?? (early ??= new Secrets());
    early?.add(token);
    return secrets.scrub(text, opts);
  };
}

/** What one instance serves beyond its credential: HTTP gives each request its own. */
export interface InstanceOptions {
  signal?: AbortSignal;
  handBack?: AbortSignal;
  subscriptions?: 'own' | Subscriptions;
  scope?: Scope;
  /** The instance serves one call of this tool and nothing else (see BuildOptions.onlyTool). */
  onlyTool?: string;
}

/** The tools and instructions of one scope: made once per (configuration, scope) — a configuration is fixed once parsed. */
interface Offer {
  readonly tools: readonly AnyTool[];
  instructions: string;
}
const offers = new WeakMap<Config, Lru<Offer>>();
/** Scopes come from request headers: the cache keeps the most recent few (a bad scope throws and is not kept). */
const OFFERS_MAX = 64;

/** toolsFor and the instructions, cached: the same definitions (and read-only views) serve every request of a scope. */
export function offerFor(config: Config, scope?: Scope): Offer {
  let byScope = offers.get(config);
  if (!byScope) offers.set(config, (byScope = new Lru(OFFERS_MAX)));
  const key = scope ? JSON.stringify([scope.toolsets, scope.tools, !!scope.readOnly]) : '';
  return byScope.getOrCreate(key, () => {
    const tools = toolsFor(config, scope);
    return { tools, instructions: instructionsFor(tools) };
  });
}

/**
 * createServer in two steps: what depends only on the credential (its principal tag, its
 * admission) is made once; the function returned builds one instance per call (over HTTP, one per
 * request), the scope's tool definitions and schemas shared (see offerFor, buildMcpServer).
 */
export function serverFactory(config: Config, credentials: Credentials, remote: boolean): (opts: InstanceOptions) => McpServer {
  const principal = createHash('sha256').update(`hoody-mcp principal\0${credentials.token ?? ''}`).digest('base64url');
  const admit = admissionFor(config, credentials.token);
  return (opts) => {
    const { tools, instructions } = offerFor(config, opts.scope);
    const deps = depsFor(config, credentials, remote);
    return buildMcpServer<Hoody>({
      name: 'hoody-mcp',
      version: VERSION,
      instructions,
      tools,
      resources: allResources,
      prompts: allPrompts,
      principal,
      remote,
      signal: opts.signal,
      handBack: opts.handBack,
      subscriptions: opts.subscriptions,
      deps,
      describeError,
      redact: redactFor(deps, credentials.token),
      admit,
      confirm: config.confirm,
      onlyTool: opts.onlyTool,
    });
  };
}

export function createServer(config: Config, credentials: Credentials, opts: InstanceOptions & { remote: boolean }): McpServer {
  return serverFactory(config, credentials, opts.remote)(opts);
}

/** Resource subscriptions of one credential, shared by that credential's HTTP requests. */
export function subscriptionsFor(config: Config, credentials: Credentials, notify: (uri: string) => void): Subscriptions {
  return createSubscriptions<Hoody>(allResources, depsFor(config, credentials, true), notify, describeError);
}
