/**
 * Embedded Hoody simulator: control plane + kits behind one Host-routed HTTP server on 127.0.0.1.
 * `hoody-mcp --sim` starts it in-process; the test suites run against it.
 *
 * Commands run for real, as the current user, inside a per-container sandbox directory (see
 * `sandbox.ts`; `sim.isolation` says how strong the isolation is on this machine).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { FaultRegistry } from './faults.js';
import { KIT_FACTORIES } from './kits/index.js';
import { createIsolator, mapPath, normalizeContainerPath } from './sandbox.js';
import { seed } from './seed.js';
import { createSimServer } from './server.js';
import type { ContainerRec } from './records.js';
import { SimCore } from './state.js';
import type { ContainerStatus, Sim, SimOptions, SimQuirks } from './types.js';

export type {
  ContainerStatus, FaultSpec, Faults, Isolation, Sim, SimExecution, SimOptions, SimQuirks, SimRequestLog,
} from './types.js';
export { verifyContainerClaim, parseClaimHeader, publicKeyFromHex } from './claims.js';
export type { ContainerClaim, ContainerClaimPayload, ClaimVerification } from './claims.js';

export const DEFAULT_QUIRKS: Required<SimQuirks> = {
  listing: 'paths',
  output: 'both',
  createShape: 'skill',
  putShape: 'skill',
  crlf: true,
  timeoutStatus: 'completed',
};

export async function startSim(opts: SimOptions = {}): Promise<Sim> {
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = path.resolve(opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'hoody-sim-'))));
  const isolator = await createIsolator(path.join(dataDir, '.root'));
  const quirks: SimQuirks = { ...DEFAULT_QUIRKS, ...opts.quirks };
  const core = new SimCore(SimCore.resolve(opts), quirks, dataDir, isolator);
  for (const [slug, factory] of Object.entries(KIT_FACTORIES)) core.kits.set(slug, factory(core));

  const { user, token, projectId, containerId, containerName, serverId, serverName, rentalId } = await seed(core, opts.seed !== false);

  const faults = new FaultRegistry();
  const server = createSimServer(core, faults);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  core.port = (server.address() as AddressInfo).port;
  const port = core.port;

  function container(id: string): ContainerRec {
    const c = core.containers.get(id);
    if (!c) throw new Error(`hoody-sim: unknown container ${id}`);
    return c;
  }

  let closed: Promise<void> | undefined;
  const sim: Sim = {
    port,
    apiUrl: `http://api.localhost:${port}`,
    token,
    user,
    projectId,
    containerId,
    containerName,
    serverId,
    serverName,
    rentalId,
    quirks,
    faults,
    agent: (core.kits.get('agent') as unknown as { agent: Sim['agent'] }).agent,
    requests: core.requests,
    executions: core.executions,
    isolation: isolator.isolation,
    containerPath(id: string, absPath: string): string {
      return mapPath(core.sandboxRoot(id), normalizeContainerPath(absPath));
    },
    sandboxDir(id: string): string {
      return core.sandboxRoot(id);
    },
    kitUrl(id: string, slug: string, n = 1): string {
      const c = container(id);
      return `http://${c.project_id}-${c.id}-${slug}-${n}.${c.server_name}.containers.localhost:${port}`;
    },
    setContainerStatus(id: string, status: ContainerStatus): void {
      const c = container(id);
      if (c.status === 'paused' && status !== 'paused') core.pauseProcesses(id, false);
      if (status !== 'running' && status !== 'paused') core.stopProcesses(id);
      if (status === 'paused') core.pauseProcesses(id, true);
      core.setStatus(c, status, 'system');
      c.kitsReadyAt = status === 'running' ? Date.now() : Number.MAX_SAFE_INTEGER;
    },
    setWarmup(id: string, ms: number): void {
      core.warmUp(container(id), ms);
    },
    close(): Promise<void> {
      closed ??= (async () => {
        core.closing = true;
        await Promise.all([...core.kits.values()].map((k) => k.close?.()));
        isolator.releaseAll();
        core.clearTimers();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        core.clearTimers();
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
      })();
      return closed;
    },
  };
  return sim;
}
