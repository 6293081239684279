/**
 * End-to-end harness: the built server (dist/bin/cli.js) spawned over stdio or served over HTTP,
 * driven by the official MCP client, against a simulator this test process owns (so tests can
 * inspect its state: files on disk, commands executed, requests served).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll } from 'vitest';
import { startSim, type Sim, type SimOptions } from '../../src/sim/index.js';

export const CLI = fileURLToPath(new URL('../../dist/bin/cli.js', import.meta.url));
export const ERAS = ['2025-06-18', '2025-11-25', '2026-07-28'] as const;
export type Era = (typeof ERAS)[number];

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);

export function simFor(opts: SimOptions = {}): Promise<Sim> {
  return startSim({ provisionMs: 300, warmupMs: 200, lifecycleMs: 100, ...opts });
}

function clientFor(era: Era): Client {
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

export async function connectStdio(sim: Sim, opts: { era?: Era; args?: string[]; env?: Record<string, string> } = {}): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, ...(opts.args ?? [])],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      HOODY_API_URL: sim.apiUrl,
      HOODY_TOKEN: sim.token,
      ...opts.env,
    },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = clientFor(opts.era ?? '2025-11-25');
  await client.connect(transport);
  return { client, stderr: () => err, close: () => client.close() };
}

export interface HttpServer {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  close(): Promise<void>;
}

/** Serve the built server over HTTP on a free port (read back from its stderr). */
export async function startHttpServer(sim: Sim | undefined, opts: { args?: string[]; env?: Record<string, string> } = {}): Promise<HttpServer> {
  const proc = spawn(process.execPath, [CLI, '--http', '--port', '0', ...(opts.args ?? [])], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...(sim ? { HOODY_API_URL: sim.apiUrl } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 15_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving streamable HTTP at (\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited ${code}: ${err}`));
    });
  });
  return {
    url,
    proc,
    stderr: () => err,
    close: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    },
  };
}

export async function connectHttp(url: string, token: string | undefined, era: Era = '2025-11-25'): Promise<Connected> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
  });
  const client = clientFor(era);
  await client.connect(transport);
  return { client, stderr: () => '', close: () => client.close() };
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
 * The usual test file setup: one simulator and one stdio client of the built server for the
 * whole file, closed afterwards. `t.sim` and `t.c` are set once beforeAll has run.
 */
export function useSimAndStdio(opts: { sim?: SimOptions; args?: (sim: Sim) => string[]; setup?: (sim: Sim) => Promise<void> } = {}) {
  const t = {} as { sim: Sim; c: Connected };
  beforeAll(async () => {
    t.sim = await simFor(opts.sim);
    await opts.setup?.(t.sim);
    t.c = await connectStdio(t.sim, { args: opts.args?.(t.sim) ?? ['--container', t.sim.containerId] });
  });
  afterAll(async () => {
    await t.c?.close();
    await t.sim?.close();
  });
  return t;
}

/** The same setup served over HTTP: one simulator, the built server with --http, one client. */
export function useSimAndHttp(opts: { sim?: SimOptions; args?: (sim: Sim) => string[]; era?: Era } = {}) {
  const t = {} as { sim: Sim; c: Connected };
  let srv: HttpServer | undefined;
  beforeAll(async () => {
    t.sim = await simFor(opts.sim);
    srv = await startHttpServer(t.sim, { args: opts.args?.(t.sim) ?? ['--container', t.sim.containerId] });
    t.c = await connectHttp(srv.url, t.sim.token, opts.era);
  });
  afterAll(async () => {
    await t.c?.close();
    await srv?.close();
    await t.sim?.close();
  });
  return t;
}
