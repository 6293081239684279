/** The world `startSim` begins with: one user with an `hdy_` token and an active server rental; then (unless `seed:false`) one project and one running, already warm container. */
import { randomBytes } from 'node:crypto';
import type { ContainerRec } from './records.js';
import { createSandbox } from './sandbox.js';
import type { SimCore } from './state.js';
import { isoNow, newId } from './util.js';

export interface Seeded {
  user: { id: string; username: string; password: string; email: string };
  /** The seeded token's secret. */
  token: string;
  serverId: string;
  serverName: string;
  rentalId: string;
  /** Empty strings without the container. */
  projectId: string;
  containerId: string;
  containerName: string;
}

export async function seed(core: SimCore, withContainer: boolean): Promise<Seeded> {
  const now = isoNow();
  const user = { id: newId(), username: 'demo', password: `sim-${randomBytes(6).toString('hex')}`, email: 'demo@hoody.localhost' };
  core.users.set(user.id, { ...user, alias: 'Demo User', created_at: now, updated_at: now, tokensRevokedAt: 0 });
  const token = core.newAuthTokenSecret();
  const tokenId = newId();
  core.tokens.set(tokenId, {
    id: tokenId, token, user_id: user.id, alias: 'hoody-sim', ip_whitelist: ['*'], realm_ids: [], allow_no_realm: true,
    permissions: { containers: { read: true, create: true }, projects: { read: true, create: true } }, public_key: null,
    public_storage: null, expires_at: null, is_enabled: true, vault_access: false, event_access: true, last_used_at: null,
    last_used_ip: null, created_at: now, updated_at: now,
  });
  const serverId = newId();
  const serverName = 'node-sim-1';
  const rentalId = newId();
  core.rentals.set(rentalId, {
    id: rentalId, server_id: serverId, server_name: serverName, user_id: user.id, rental_start: now,
    rental_end: new Date(Date.now() + 30 * 86_400_000).toISOString(), status: 'active', amount: '0.00', remaining_days: 30, pool_id: null,
  });
  let projectId = '';
  let containerId = '';
  let containerName = '';
  if (withContainer) {
    projectId = newId();
    core.projects.set(projectId, { id: projectId, user_id: user.id, alias: 'Default Project', color: '#3B82F6', max_containers: null, realm_ids: [], created_at: now, updated_at: now });
    containerId = newId();
    containerName = 'sim-container';
    const c: ContainerRec = {
      id: containerId, user_id: user.id, project_id: projectId, server_id: serverId, server_name: serverName,
      subserver_name: 'demo-slice-1', name: containerName, color: '#10B981', container_image: 'ubuntu/24.04', ai: true,
      hoody_kit: true, dev_kit: true, autostart: true, ramdisk: true, prespawn: false, is_default: true, status: 'running',
      environment_vars: {}, ssh_public_key: null, comment: null, realm_ids: [], created_at: now, updated_at: now,
      snapshots: [], last_used_snapshot: null, statusLogs: [], kitsReadyAt: 0, busy: false, statusSince: Date.now(),
    };
    await createSandbox(core.sandboxRoot(containerId));
    core.containers.set(containerId, c);
    core.isolator.prepare(core.sandboxRoot(containerId));
  }
  return { user, token, serverId, serverName, rentalId, projectId, containerId, containerName };
}
