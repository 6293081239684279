/**
 * The fast layer: the real server factory (createServer + a Config parsed from flags, as the CLI
 * does) connected to the official client through the SDK's in-memory transport, against a
 * simulator in this process. No build, no child process: behaviour tests live here; transports,
 * protocol revisions and flags stay in test/e2e.
 */
import { InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import type { Sim, SimOptions } from '../../src/sim/index.js';
import { clientFor, simFor, type Connected, type Era } from './shared.js';

export { call, simFor, waitFor, type Connected, type ToolCall } from './shared.js';

export interface InprocOptions {
  /** CLI flags, parsed exactly as the binary parses them (default: --container <the seeded container>). */
  args?: string[];
  /** Environment the flags are parsed with (default: the simulator's URL and token). */
  env?: Record<string, string>;
  /** Serve as the hosted HTTP server does (local-path tools refused). */
  remote?: boolean;
  era?: Exclude<Era, '2026-07-28'>;
}

/** One client connected in-process to a fresh server instance for `sim`. */
export async function connectInproc(sim: Sim, opts: InprocOptions = {}): Promise<Connected> {
  const config = parseConfig(opts.args ?? ['--container', sim.containerId], { HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token, ...opts.env });
  const server = createServer(config, { token: config.token }, { remote: opts.remote ?? false, subscriptions: opts.remote ? undefined : 'own' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = clientFor(opts.era ?? '2025-11-25');
  await client.connect(clientSide);
  return {
    client,
    stderr: () => '',
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** The usual suite: one simulator and one in-process client for the whole file. */
export function useInproc(opts: InprocOptions & { sim?: SimOptions; argsFor?: (sim: Sim) => string[] } = {}) {
  const t = {} as { sim: Sim; c: Connected };
  beforeAll(async () => {
    t.sim = await simFor(opts.sim);
    t.c = await connectInproc(t.sim, { ...opts, args: opts.argsFor?.(t.sim) ?? opts.args });
  });
  afterAll(async () => {
    await t.c?.close();
    await t.sim?.close();
  });
  return t;
}
