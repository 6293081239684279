/**
 * defineTool: a tool is data — name, title, description, toolset, kind, input schema, handler.
 * `kind` decides the annotations and the tool's fate under --read-only. Generic over the
 * application's dependencies `D`: the shell knows nothing of what a handler talks to.
 */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import type * as z from 'zod';

export type ToolKind = 'read' | 'write' | 'destructive';

export interface ToolContext<D> {
  deps: D;
  signal: AbortSignal;
  /** True when served over HTTP: local paths belong to someone else's machine then. */
  remote: boolean;
  /** Report progress (a no-op unless the client sent a progressToken). */
  progress(message: string): Promise<void>;
  readonly canReportProgress: boolean;
}

export interface ToolDefinition<D = unknown, S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  toolset: string;
  kind: ToolKind;
  /** Repeated calls with the same input have no further effect (write tools only). */
  idempotent?: boolean;
  /** A non-read tool that stays under --read-only because it restricts itself (e.g. GET-only raw requests). */
  readOnlyVariant?: boolean;
  input: S;
  handler(args: z.infer<S>, ctx: ToolContext<D>): Promise<CallToolResult>;
}

/** Any tool, whatever its input schema (handlers are contravariant in their args). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool<D = any> = ToolDefinition<D, any>;

export function defineTool<D, S extends z.ZodObject>(def: ToolDefinition<D, S>): ToolDefinition<D, S> {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(def.name)) throw new Error(`bad tool name ${def.name}`);
  return def;
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
