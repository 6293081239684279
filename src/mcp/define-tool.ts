/**
 * defineTool: a tool is data — name, title, description, toolset, kind, input schema, handler.
 * `kind` decides the annotations and the tool's fate under --read-only. Generic over the
 * application's dependencies `D`: the shell knows nothing of what a handler talks to.
 *
 * A tool may declare a `scope` (what it works on: a container, next a browser tab, a display, an
 * agent session). The scope adds its arguments to the tool's input and the shell resolves them
 * before the handler runs, so the handler receives the resolved value as `ctx.scope`.
 */
import type { CallToolResult, InputRequiredResult, ToolAnnotations } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Asker } from './ask.js';
import type { Reply } from './result.js';

export type ToolKind = 'read' | 'write' | 'destructive';

export interface ToolContext<D, V = undefined> {
  deps: D;
  signal: AbortSignal;
  /** What the tool's scope resolved to (e.g. a container id). */
  scope: V;
  /** Report progress (a no-op unless the client sent a progressToken). */
  progress(message: string): Promise<void>;
  readonly canReportProgress: boolean;
  /** Ask the person at the client (elicitation, per protocol revision; see ask.ts). */
  readonly asker: Asker;
  /** Aborted when the server must stop soon (a drain): a wait stops and the tool hands back its handle; the work goes on. */
  readonly handBack?: AbortSignal;
}

/** What a group of tools works on: the arguments that name it and how to resolve them. */
export interface Scope<D, V> {
  name: string;
  args: z.ZodRawShape;
  resolve(args: Record<string, unknown>, deps: D, signal: AbortSignal): Promise<V>;
}

export function defineScope<D, V>(scope: Scope<D, V>): Scope<D, V> {
  return scope;
}

/**
 * A tool whose `arg` picks one of several actions of different kinds (e.g. snapshots: list is a
 * read, create a write, restore destructive). Under --read-only it keeps its read actions, with
 * its schema narrowed to them.
 */
export interface Actions {
  arg: string;
  kinds: Record<string, ToolKind>;
}

export interface ToolDefinition<D = unknown, S extends z.ZodObject = z.ZodObject, V = undefined> {
  name: string;
  title: string;
  description: string;
  toolset: string;
  kind: ToolKind;
  /** Repeated calls with the same input have no further effect (write tools only). */
  idempotent?: boolean;
  /** A non-read tool that stays under --read-only because it restricts itself (e.g. GET-only raw requests). */
  readOnlyVariant?: boolean;
  actions?: Actions;
  /** Refused when served over HTTP (local paths belong to the server's machine then): what to use instead. */
  localOnly?: string;
  scope?: Scope<D, V>;
  /**
   * A call that cannot be undone asks the person first (per --confirm): the question for these
   * arguments, or undefined when they change nothing irreversible. The shell asks, not the handler.
   */
  confirm?: (args: z.infer<S>) => string | undefined;
  /** The tool exists to show links a person can open: the scrubber leaves them (secrets it still hides). */
  showsLinks?: boolean;
  /**
   * Seconds after which the call returns a clear error whatever is still pending (default 30:
   * clients give up at 60). Tools that wait say how long from their arguments; null = none.
   */
  deadline?: (args: z.infer<S>) => number | null;
  input: S;
  /** An InputRequiredResult (from `ctx.asker.round`) asks the person and is retried with the answer (2026-07-28). */
  handler(args: z.infer<S>, ctx: ToolContext<D, V>): Promise<CallToolResult | Reply | InputRequiredResult>;
}

/** Any tool, whatever its input schema (handlers are contravariant in their args). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool<D = any> = ToolDefinition<D, any, any>;

export const DEFAULT_DEADLINE_S = 30;

export function defineTool<D, S extends z.ZodObject, V = undefined>(def: ToolDefinition<D, S, V>): ToolDefinition<D, S, V> {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(def.name)) throw new Error(`bad tool name ${def.name}`);
  for (const a of Object.keys(def.scope?.args ?? {})) {
    if (a in def.input.shape) throw new Error(`${def.name}: argument ${a} belongs to scope ${def.scope!.name}`);
  }
  if (def.actions && !(def.input.shape[def.actions.arg] instanceof z.ZodEnum)) throw new Error(`${def.name}: actions need an enum ${def.actions.arg}`);
  return def;
}

/** The input schema clients see: the scope's arguments first, then the tool's own. */
export function inputOf(def: AnyTool): z.ZodObject {
  return def.scope ? z.object({ ...def.scope.args, ...def.input.shape }) : def.input;
}

/**
 * The tool as --read-only offers it: unchanged if it is a read (or restricts itself), narrowed
 * to its read actions if it has some, otherwise undefined (not offered).
 */
export function readOnlyView<T extends AnyTool>(def: T): T | undefined {
  if (def.kind === 'read' || def.readOnlyVariant) return def;
  if (!def.actions) return undefined;
  const reads = Object.entries(def.actions.kinds).filter(([, k]) => k === 'read').map(([a]) => a);
  if (!reads.length) return undefined;
  const original = def.input.shape[def.actions.arg] as z.ZodEnum;
  const narrowed = z.enum(reads as [string, ...string[]]);
  const field = original.description ? narrowed.describe(original.description) : narrowed;
  return {
    ...def,
    kind: 'read',
    actions: { ...def.actions, kinds: Object.fromEntries(reads.map((a) => [a, 'read'])) },
    input: def.input.extend({ [def.actions.arg]: field }),
  };
}

/**
 * Annotations from kind. Only what differs from the spec defaults (readOnly false,
 * destructive true, idempotent false, openWorld true) is sent, to keep tools/list small.
 */
export function annotationsFor(def: Pick<ToolDefinition, 'kind' | 'idempotent'>): ToolAnnotations {
  switch (def.kind) {
    case 'read':
      return { readOnlyHint: true };
    case 'write':
      return def.idempotent ? { destructiveHint: false, idempotentHint: true } : { destructiveHint: false };
    case 'destructive':
      return { destructiveHint: true };
  }
}
