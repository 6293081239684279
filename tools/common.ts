/** What every tool file shares: the deps type, the container scope, small schemas. */
import * as z from 'zod';
import type { Hoody } from '../src/core/hoody.js';
import { defineScope, defineTool, type ToolDefinition } from '../src/mcp/define-tool.js';

export type Deps = Hoody;

/** defineTool with the deps fixed to Hoody. */
export const tool = <S extends z.ZodObject, V = undefined>(def: ToolDefinition<Deps, S, V>) => defineTool<Deps, S, V>(def);

export const container = z.string().min(1).optional().describe('Container id or name (default: --container)');

/** Tools that work on one container: `container` (id, name or the default) resolves to its id. */
export const inContainer = defineScope<Deps, string>({
  name: 'container',
  args: { container },
  resolve: (args, deps, signal) => deps.containerId(args.container as string | undefined, signal),
});

/** The container a confirmation question names. */
export const target = (args: object) => ((args as { container?: string }).container ? `container ${(args as { container: string }).container}` : 'the default container');

export const waitS = (dflt: number) =>
  z.number().min(0).max(55).optional().describe(`Seconds to wait before returning a handle (default ${dflt})`);

/** The deadline of a tool that waits up to `wait_s`: that, plus time to answer. */
export const waitDeadline = (dflt: number) => (args: { wait_s?: number }) => (args.wait_s ?? dflt) + 30;

export const jobUri = (containerId: string, job: string) => `hoody://containers/${containerId}/jobs/${job}`;
/** `{+path}` keeps the slashes; every segment is percent-encoded (spaces, `#`, `?` are not URI characters). */
export const fileUri = (containerId: string, path: string) =>
  `hoody://containers/${containerId}/files/${path.replace(/^\//, '').split('/').map(encodeURIComponent).join('/')}`;
