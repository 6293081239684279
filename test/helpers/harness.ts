/**
 * End-to-end harness: the built server (dist/bin/cli.js) spawned over stdio or served over HTTP,
 * driven by the official MCP client, against a simulator this test process owns (so tests can
 * inspect its state: files on disk, commands executed, requests served).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll } from 'vitest';
import type { Sim, SimOptions } from '../../src/sim/index.js';
import { clientFor, simFor, type Connected, type Era } from './shared.js';

export { call, clientFor, ERAS, simFor, waitFor, type Connected, type Era, type ToolCall } from './shared.js';

export const CLI = fileURLToPath(new URL('../../dist/bin/cli.js', import.meta.url));

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);

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
