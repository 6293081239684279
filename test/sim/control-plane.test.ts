import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFromHex, startSim, verifyContainerClaim, type Sim } from '../../src/sim/index.js';
import { api, hostOf, kit, request, until } from './helpers.js';

let sim: Sim;
beforeAll(async () => {
  // provisionMs / warmupMs: windows a test observes (creating, warming up) must outlast a few requests under load.
  sim = await startSim({ provisionMs: 500, warmupMs: 500, lifecycleMs: 40 });
});
afterAll(async () => {
  await sim.close();
});

describe('auth', () => {
  it('401s without, with malformed, and with unknown bearer tokens', async () => {
    const noAuth = await api(sim, null)('GET', '/api/v1/projects/');
    expect(noAuth.status).toBe(401);
    expect(noAuth.json).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect((await api(sim, null)('GET', '/api/v1/projects/', undefined, { Authorization: `bearer ${sim.token}` })).status).toBe(401);
    expect((await api(sim, null)('GET', '/api/v1/projects/', undefined, { Authorization: `Bearer  ${sim.token}` })).status).toBe(401);
    expect((await api(sim, 'hdy_nope')('GET', '/api/v1/projects/')).status).toBe(401);
    expect((await api(sim, 'eyJhbGciOi.x.y')('GET', '/api/v1/projects/')).status).toBe(401);
  });

  it('logs in, refreshes only with body AND header, and reports me', async () => {
    const bad = await api(sim, null)('POST', '/api/v1/users/auth/login', { username: sim.user.username, password: 'wrong' });
    expect(bad.status).toBe(401);
    expect((await api(sim, null)('POST', '/api/v1/users/auth/login', { password: 'x' })).status).toBe(400);
    const login = await api(sim, null)('POST', '/api/v1/users/auth/login', { email: sim.user.email, password: sim.user.password });
    expect(login.status).toBe(200);
    const { token, refreshToken, expires_in } = login.json.data;
    expect(expires_in).toBe(86400);
    expect(token).not.toMatch(/^hdy_/);
    const me = await api(sim, token)('GET', '/api/v1/users/auth/me');
    expect(me.json.data).toMatchObject({ id: sim.user.id, username: sim.user.username });
    expect(me.json.data.auth_token).toBeUndefined();
    // [S:527]: body only or header only → 401
    expect((await api(sim, null)('POST', '/api/v1/users/auth/refresh', { refreshToken })).status).toBe(401);
    expect((await api(sim, refreshToken)('POST', '/api/v1/users/auth/refresh', {})).status).toBe(401);
    expect((await api(sim, token)('POST', '/api/v1/users/auth/refresh', { refreshToken })).status).toBe(401);
    const ok = await api(sim, refreshToken)('POST', '/api/v1/users/auth/refresh', { refreshToken });
    expect(ok.status).toBe(200);
    expect(ok.json.data.token).toBeTruthy();
    // An access JWT is not a refresh token and vice versa.
    expect((await api(sim, refreshToken)('GET', '/api/v1/users/auth/me')).status).toBe(401);
  });

  it('manages hdy_ tokens: shown once, listed bare, introspected, deleted', async () => {
    const created = await api(sim)('POST', '/api/v1/auth/tokens', { alias: 'ci token' });
    expect(created.status).toBe(201);
    expect(created.json.data.token).toMatch(/^hdy_/);
    expect((await api(sim)('POST', '/api/v1/auth/tokens', { alias: 'ci token' })).status).toBe(409);
    const list = await api(sim)('GET', '/api/v1/auth/tokens');
    expect(Array.isArray(list.json.data)).toBe(true);
    expect(list.json.data.every((t: { token?: string }) => t.token === undefined)).toBe(true);
    const me = await api(sim, created.json.data.token)('GET', '/api/v1/users/auth/me');
    expect(me.json.data.auth_token).toMatchObject({ id: created.json.data.id, prefix: 'hdy_' });
    const tme = await api(sim, created.json.data.token)('GET', '/api/v1/auth/tokens/me');
    expect(tme.json.data.restrictions).toMatchObject({ has_realm_restrictions: false });
    const del = await api(sim)('DELETE', `/api/v1/auth/tokens/${created.json.data.id}`);
    expect(del.json).toEqual({ statusCode: 200, message: 'Auth token deleted successfully' });
    expect((await api(sim, created.json.data.token)('GET', '/api/v1/users/auth/me')).status).toBe(401);
  });
});

describe('projects, rentals, containers', () => {
  it('lists projects with pagination on the trailing-slash route only', async () => {
    const r = await api(sim)('GET', '/api/v1/projects/?page=1&limit=5');
    expect(r.json.data.projects[0]).toMatchObject({ id: sim.projectId, alias: 'Default Project' });
    expect(r.json.data.pagination).toEqual({ total: 1, page: 1, limit: 5, totalPages: 1 });
    expect((await api(sim)('GET', '/api/v1/projects')).status).toBe(404);
    expect((await api(sim)('GET', '/api/v1/containers')).status).toBe(404);
  });

  it('rentals are a bare array whose server_id differs from the rental id', async () => {
    const r = await api(sim)('GET', '/api/v1/rentals');
    expect(r.json.data).toHaveLength(1);
    expect(r.json.data[0]).toMatchObject({ id: sim.rentalId, server_id: sim.serverId, status: 'active' });
    expect(sim.rentalId).not.toBe(sim.serverId);
    const s = await api(sim)('GET', '/api/v1/servers');
    expect(s.json.data[0].server).toMatchObject({ id: sim.serverId, name: sim.serverName });
  });

  it('container objects carry project_id, server_name and a different subserver_name', async () => {
    const r = await api(sim)('GET', `/api/v1/containers/${sim.containerId}`);
    expect(r.json.data).toMatchObject({ id: sim.containerId, project_id: sim.projectId, server_name: sim.serverName, status: 'running' });
    expect(r.json.data.subserver_name).not.toBe(sim.serverName);
    const all = await api(sim)('GET', '/api/v1/containers/');
    expect(all.json.data.containers.map((c: { id: string }) => c.id)).toContain(sim.containerId);
    expect(all.json.data.pagination.total).toBeGreaterThanOrEqual(1);
    const per = await api(sim)('GET', `/api/v1/projects/${sim.projectId}/containers?limit=1`);
    expect(per.json.data.pagination.limit).toBe(1);
  });

  it('rejects bad ids (400) and unknown ids (404)', async () => {
    const bad = await api(sim)('GET', '/api/v1/containers/xyz');
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/24-character hexadecimal/);
    const unknown = await api(sim)('GET', '/api/v1/containers/0123456789abcdef01234567');
    expect(unknown.json).toEqual({ statusCode: 404, error: 'Not Found', message: 'Container not found' });
    expect((await api(sim)('GET', '/api/v1/projects/0123456789abcdef01234567')).json.message).toBe('Project not found');
  });

  it('creates a container: creating → running → warm-up 502 HTML → 200', async () => {
    const bad = await api(sim)('POST', `/api/v1/projects/${sim.projectId}/containers`, { name: 'x!' });
    expect(bad.status).toBe(400);
    expect((await api(sim)('POST', `/api/v1/projects/${sim.projectId}/containers`, { server_id: sim.serverId, name: 'ab' })).status).toBe(400);
    expect((await api(sim)('POST', `/api/v1/projects/${sim.projectId}/containers`, { server_id: sim.serverId, name: sim.containerName })).status).toBe(409);
    const r = await api(sim)('POST', `/api/v1/projects/${sim.projectId}/containers`, { server_id: sim.serverId, name: 'web_1' });
    expect(r.status).toBe(201);
    expect(r.json.data.status).toBe('creating');
    const id: string = r.json.data.id;
    const files = kit(sim, 'files', id);
    const early = await files('GET', '/api/v1/files/home/user');
    expect(early.status).toBe(502);
    expect(early.text).toMatch(/^<!DOCTYPE html><html><head><title>Error 502<\/title>/);
    await until(async () => (await api(sim)('GET', `/api/v1/containers/${id}`)).json.data.status === 'running');
    const warming = await files('GET', '/api/v1/files/home/user');
    expect(warming.status).toBe(502);
    await until(async () => (await files('GET', '/api/v1/files/home/user')).status === 200);
  });

  it('lifecycle: stop/start/pause/resume, 400 conflict with data block, processes killed on stop', async () => {
    const r = await api(sim)('POST', `/api/v1/projects/${sim.projectId}/containers`, { server_id: sim.serverId });
    const id: string = r.json.data.id;
    await until(async () => (await api(sim)('GET', `/api/v1/containers/${id}`)).json.data.status === 'running');
    sim.setWarmup(id, 0);
    const term = kit(sim, 'terminal', id);
    const bg = await term('POST', '/api/v1/terminal/execute?terminal_id=3&wait=false', { command: 'sleep 30' });
    expect(bg.json.status).toMatch(/queued|running/);
    const conflict = await api(sim)('POST', `/api/v1/containers/${id}/start`);
    expect(conflict.status).toBe(400);
    expect(conflict.json).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'Container is already running' });
    expect(conflict.json.data).toMatchObject({ error: true, operation: 'start', container_id: id, status: 'running' });
    const stop = await api(sim)('POST', `/api/v1/containers/${id}/stop`);
    expect(stop.json).toMatchObject({ statusCode: 200, message: 'Container operation completed successfully' });
    expect(stop.json.data).toMatchObject({ error: false, operation: 'stop', status: 'stopped' });
    const exe = sim.executions.find((e) => e.containerId === id && e.command === 'sleep 30');
    await until(async () => exe?.endedAt !== undefined);
    expect((await term('GET', '/api/v1/terminal/sessions')).status).toBe(502);
    expect((await api(sim)('POST', `/api/v1/containers/${id}/pause`)).json.message).toBe('Container is not running');
    expect((await api(sim)('POST', `/api/v1/containers/${id}/start`)).json.data.status).toBe('running');
    expect((await api(sim)('POST', `/api/v1/containers/${id}/pause`)).json.data.status).toBe('paused');
    expect((await term('GET', '/api/v1/terminal/health')).status).toBe(502);
    expect((await api(sim)('POST', `/api/v1/containers/${id}/resume`)).json.data.status).toBe('running');
    expect((await api(sim)('POST', `/api/v1/containers/${id}/restart`)).json.data.operation).toBe('restart');
    expect((await api(sim)('POST', `/api/v1/containers/${id}/force-stop`)).json.data.status).toBe('stopped');
    expect((await api(sim)('POST', `/api/v1/containers/${id}/explode`)).status).toBe(404);
    const logs = await api(sim)('GET', `/api/v1/containers/${id}/status-logs?limit=50`);
    expect(logs.json.data.logs.map((l: { to_status: string }) => l.to_status)).toContain('paused');
  });

  it('deletes: deleting, then gone; project delete blocks on active containers', async () => {
    const p = await api(sim)('POST', '/api/v1/projects/', { alias: 'temp' });
    expect(p.status).toBe(201);
    const pid: string = p.json.data.id;
    const c = await api(sim)('POST', `/api/v1/projects/${pid}/containers`, { server_id: sim.serverId });
    const id: string = c.json.data.id;
    await until(async () => (await api(sim)('GET', `/api/v1/containers/${id}`)).json.data.status === 'running');
    const blocked = await api(sim)('DELETE', `/api/v1/projects/${pid}`);
    expect(blocked.status).toBe(422);
    const del = await api(sim)('DELETE', `/api/v1/containers/${id}`);
    expect(del.json).toEqual({ statusCode: 200, message: 'Container deleted successfully' });
    expect((await api(sim)('GET', `/api/v1/containers/${id}`)).json.data.status).toBe('deleting');
    expect((await kit(sim, 'files', id)('GET', '/api/v1/files/home')).status).toBe(502);
    await until(async () => (await api(sim)('GET', `/api/v1/containers/${id}`)).status === 404);
    expect((await api(sim)('DELETE', `/api/v1/projects/${pid}`)).status).toBe(200);
  });

  it('env endpoints merge and reserve HOODY_', async () => {
    expect((await api(sim)('PUT', `/api/v1/containers/${sim.containerId}/env`, { A: '1', B: '2' })).json.data).toMatchObject({ environment_vars: { A: '1', B: '2' }, synced: true });
    expect((await api(sim)('PATCH', `/api/v1/containers/${sim.containerId}/env`, { B: '3' })).json.data.environment_vars).toEqual({ A: '1', B: '3' });
    expect((await api(sim)('PUT', `/api/v1/containers/${sim.containerId}/env`, { HOODY_X: '1' })).status).toBe(400);
    expect((await api(sim)('DELETE', `/api/v1/containers/${sim.containerId}/env/A`)).json.data.environment_vars).toEqual({ B: '3' });
    const out = await kit(sim, 'terminal')('POST', '/api/v1/terminal/execute?ephemeral=true', { command: 'echo "$B $HOODY_CONTAINER_ID"' });
    expect(out.json.stdout).toBe(`3 ${sim.containerId}\r\n`);
    await api(sim)('DELETE', `/api/v1/containers/${sim.containerId}/env/B`);
  });
});

describe('snapshots', () => {
  it('create (200), restore rewinds the sandbox, alias, delete', async () => {
    const files = kit(sim, 'files');
    await files('PUT', '/api/v1/files/home/user/snap.txt', 'v1');
    const created = await api(sim)('POST', `/api/v1/containers/${sim.containerId}/snapshots`, { alias: 'before' });
    expect(created.status).toBe(200);
    const name: string = created.json.data.snapshot.name;
    expect(name).toMatch(/^snap-\d{8}-\d{6}/);
    await files('PUT', '/api/v1/files/home/user/snap.txt', 'v2');
    await files('PUT', '/api/v1/files/home/user/new.txt', 'x');
    const restored = await api(sim)('PUT', `/api/v1/containers/${sim.containerId}/snapshots/${name}`);
    expect(restored.json.data).toMatchObject({ success: true, message: 'Container restored from snapshot successfully' });
    expect((await files('GET', '/api/v1/files/home/user/snap.txt')).text).toBe('v1');
    expect((await files('GET', '/api/v1/files/stat/home/user/new.txt')).status).toBe(404);
    const alias = await api(sim)('PATCH', `/api/v1/containers/${sim.containerId}/snapshots/${name}/alias`, { alias: 'renamed' });
    expect(alias.json.data.snapshot.alias).toBe('renamed');
    const list = await api(sim)('GET', `/api/v1/containers/${sim.containerId}/snapshots`);
    expect(list.json.data).toMatchObject({ container_id: sim.containerId, project_id: sim.projectId });
    expect((await api(sim)('GET', `/api/v1/containers/${sim.containerId}`)).json.data).toMatchObject({ snapshot_count: 1, last_used_snapshot: name });
    const del = await api(sim)('DELETE', `/api/v1/containers/${sim.containerId}/snapshots/${name}`);
    expect(del.json.data).toEqual({ container_id: sim.containerId, project_id: sim.projectId, snapshot_name: name });
    expect((await api(sim)('PUT', `/api/v1/containers/${sim.containerId}/snapshots/${name}`)).status).toBe(404);
  });
});

describe('claims', () => {
  it('mints an Ed25519 claim that verifies with the published key; tampering fails', async () => {
    const pk = await api(sim, null)('GET', '/api/v1/meta/public-key');
    expect(pk.status).toBe(200);
    const key = pk.json.data.keys[0];
    expect(key).toMatchObject({ kid: 'v1', algorithm: 'ed25519' });
    const r = await api(sim)('POST', `/api/v1/containers/${sim.containerId}/authorize`);
    expect(r.json.data).toMatchObject({ expires_in: 3600, container_id: sim.containerId, project_id: sim.projectId });
    const claim = r.json.data.container_claim;
    expect(claim.kid).toBe('v1');
    const keys = { v1: publicKeyFromHex(key.public_key_hex) };
    const good = verifyContainerClaim(JSON.stringify(claim), keys, { containerId: sim.containerId, subject: sim.user.id });
    expect(good.ok).toBe(true);
    const payload = JSON.parse(Buffer.from(claim.payload_b64, 'base64url').toString());
    payload.container_id = '0123456789abcdef01234567';
    const forged = { ...claim, payload_b64: Buffer.from(JSON.stringify(payload)).toString('base64url') };
    expect(verifyContainerClaim(forged, keys, { containerId: '0123456789abcdef01234567' })).toMatchObject({ ok: false, code: 'CLAIM_INVALID' });
    expect(verifyContainerClaim(claim, keys, { containerId: '0123456789abcdef01234567' })).toMatchObject({ ok: false, code: 'CLAIM_INVALID' });
    expect(verifyContainerClaim(claim, keys, { containerId: sim.containerId, subject: 'someone-else' })).toMatchObject({ ok: false, code: 'BINDING_MISMATCH' });
    expect(verifyContainerClaim(claim, keys, { containerId: sim.containerId, nowS: payload.exp + 1 })).toMatchObject({ ok: false, code: 'CLAIM_INVALID' });
    expect(verifyContainerClaim('{nope', keys, { containerId: sim.containerId })).toMatchObject({ ok: false, code: 'CLAIM_MALFORMED' });
    expect(verifyContainerClaim(undefined, keys, { containerId: sim.containerId })).toMatchObject({ ok: false, code: 'CLAIM_REQUIRED', status: 401 });
  });
});

describe('realms', () => {
  it('resolves ids only within the realm of a realm-scoped host', async () => {
    const realm = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    const realmHost = `${realm}.api.localhost:${sim.port}`;
    const inRealm = api(sim, sim.token, realmHost);
    expect((await inRealm('GET', `/api/v1/containers/${sim.containerId}`)).status).toBe(404);
    expect((await inRealm('GET', '/api/v1/projects/')).json.data.projects).toEqual([]);
    const p = await inRealm('POST', '/api/v1/projects/', { alias: 'realm-project' });
    expect(p.json.data.realm_ids).toEqual([realm]);
    expect((await inRealm('GET', `/api/v1/projects/${p.json.data.id}`)).status).toBe(200);
    // A realm-restricted strict token is refused on the bare domain [S:500].
    const t = await api(sim)('POST', '/api/v1/auth/tokens', { alias: 'strict', realm_ids: [realm], allow_no_realm: false });
    const strict: string = t.json.data.token;
    expect((await api(sim, strict)('GET', '/api/v1/projects/')).status).toBe(403);
    expect((await api(sim, strict, realmHost)('GET', '/api/v1/projects/')).status).toBe(200);
    expect((await api(sim, strict)('GET', '/api/v1/auth/tokens/me')).json.data.restrictions.requires_realm_scope).toBe(true);
  });
});

describe('proxy routing', () => {
  it('answers HTML 404/502 for unknown containers, wrong server names and unknown kits; kits need no auth', async () => {
    const c = sim.kitUrl(sim.containerId, 'files');
    const unknown = await request(sim.port, `${sim.projectId}-0123456789abcdef01234567-files-1.${sim.serverName}.containers.localhost`, 'GET', '/');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/text\/html/);
    const sub = (await api(sim)('GET', `/api/v1/containers/${sim.containerId}`)).json.data.subserver_name;
    const wrongServer = await request(sim.port, hostOf(c).replace(sim.serverName, sub), 'GET', '/api/v1/files/home');
    expect(wrongServer.status).toBe(502);
    expect((await kit(sim, 'nosuchkit')('GET', '/')).status).toBe(502);
    expect((await kit(sim, 'files')('GET', '/api/v1/files/health')).json.status).toBe('ok');
    expect((await request(sim.port, 'example.com', 'GET', '/')).status).toBe(404);
    const logged = sim.requests.filter((r) => r.host === 'files' && r.containerId === sim.containerId);
    expect(logged.length).toBeGreaterThan(0);
  });
});
