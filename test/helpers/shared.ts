/**
 * What every layer of the suite shares: a fast simulator, the official MCP client per protocol
 * revision, `call` (a tool result flattened for assertions), and `waitFor` (poll a real
 * condition, bounded).
 */
import { Client } from '@modelcontextprotocol/client';
import { startSim, type Sim, type SimOptions } from '../../src/sim/index.js';

/** A simulator with short lifecycle timings (tests wait less; the behaviour is the same). */
export function simFor(opts: SimOptions = {}): Promise<Sim> {
  return startSim({ provisionMs: 300, warmupMs: 200, lifecycleMs: 100, ...opts });
}

export const ERAS = ['2025-06-18', '2025-11-25', '2026-07-28'] as const;
export type Era = (typeof ERAS)[number];

export function clientFor(era: Era): Client {
  const options =
    era === '2026-07-28'
      ? { versionNegotiation: { mode: { pin: '2026-07-28' } } }
      : { supportedProtocolVersions: era === '2025-06-18' ? ['2025-06-18'] : ['2025-11-25', '2025-06-18'] };
  return new Client({ name: 'hoody-mcp-tests', version: '0.0.0' }, options as never);
}

export interface Connected {
  client: Client;
  stderr: () => string;
  close(): Promise<void>;
}

export interface ToolCall {
  isError: boolean;
  text: string;
  structured?: Record<string, unknown>;
  content: { type: string; [k: string]: unknown }[];
}

export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  opts: { onprogress?: (p: { progress: number; message?: string }) => void; signal?: AbortSignal; timeout?: number } = {},
): Promise<ToolCall> {
  const r = (await client.callTool({ name, arguments: args }, opts as never)) as {
    isError?: boolean;
    content: { type: string; text?: string }[];
    structuredContent?: Record<string, unknown>;
  };
  return {
    isError: !!r.isError,
    text: r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n'),
    structured: r.structuredContent,
    content: r.content as ToolCall['content'],
  };
}

/**
 * Poll `check` every `everyMs` until it returns something truthy; returns it. Throws naming
 * `what` after `timeoutMs` — a test waits on the condition it needs, never on a fixed sleep.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, opts: { timeoutMs?: number; everyMs?: number } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50));
  }
}
