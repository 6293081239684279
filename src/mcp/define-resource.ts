/**
 * defineResource: a resource or resource template as data. Generic over the app's deps `D`.
 */
import type { ReadResourceResult, Resource } from '@modelcontextprotocol/server';

export interface ResourceContext<D> {
  deps: D;
  signal: AbortSignal;
}

export interface ResourceDefinition<D = unknown> {
  name: string;
  /** A fixed URI, or an RFC 6570 template (`hoody://containers/{container}`). */
  uri: string;
  title: string;
  description: string;
  mimeType?: string;
  /** Concrete resources this template stands for (listed by resources/list). */
  list?(ctx: ResourceContext<D>): Promise<Resource[]>;
  /** Completion of template variables. */
  complete?: Record<string, (value: string, deps: D) => Promise<string[]>>;
  read(uri: URL, vars: Record<string, string>, ctx: ResourceContext<D>): Promise<ReadResourceResult>;
  /**
   * Watch a concrete resource of this template: call `changed` whenever it may have changed,
   * until `ctx.signal` aborts. Resolves once watching has started (rejects if it cannot).
   */
  subscribe?(uri: URL, vars: Record<string, string>, ctx: ResourceContext<D>, changed: () => void): Promise<void>;
}

export function defineResource<D>(def: ResourceDefinition<D>): ResourceDefinition<D> {
  return def;
}
