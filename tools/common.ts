/** What every tool file shares: the deps type, the `container` argument, small formatters. */
import * as z from 'zod';
import type { Hoody } from '../src/core/hoody.js';
import { defineTool, type ToolDefinition } from '../src/mcp/define-tool.js';

export type Deps = Hoody;

/** defineTool with the deps fixed to Hoody. */
export const tool = <S extends z.ZodObject>(def: ToolDefinition<Deps, S>) => defineTool<Deps, S>(def);

export const container = z.string().min(1).optional().describe('Container id or name (default: --container)');

export const waitS = (dflt: number) =>
  z.number().min(0).max(55).optional().describe(`Seconds to wait before returning a handle (default ${dflt})`);

export const jobUri = (containerId: string, job: string) => `hoody://containers/${containerId}/jobs/${job}`;
/** `{+path}` keeps the slashes; every segment is percent-encoded (spaces, `#`, `?` are not URI characters). */
export const fileUri = (containerId: string, path: string) =>
  `hoody://containers/${containerId}/files/${path.replace(/^\//, '').split('/').map(encodeURIComponent).join('/')}`;
