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

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

export function fmtSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Rows of cells → aligned plain-text columns (cheaper for a model than JSON). */
export function columns(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export const jobUri = (containerId: string, job: string) => `hoody://containers/${containerId}/jobs/${job}`;
export const fileUri = (containerId: string, path: string) => `hoody://containers/${containerId}/files/${path.replace(/^\//, '')}`;
