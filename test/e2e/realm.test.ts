/** --realm: every control-plane call goes to {realm}.api.<domain>; kit URLs still derive correctly. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, request } from '../../src/core/http.js';
import type { Sim } from '../../src/sim/index.js';
import { call, connectStdio, simFor, type Connected } from '../helpers/harness.js';

const REALM = 'abcdefabcdefabcdefabcdef';
let sim: Sim;
let c: Connected;
let projectId: string;

beforeAll(async () => {
  sim = await simFor();
  const base = new URL(sim.apiUrl);
  base.hostname = `${REALM}.${base.hostname}`;
  const res = await request({
    method: 'POST',
    url: new URL('/api/v1/projects/', base),
    source: 'api',
    headers: { authorization: `Bearer ${sim.token}` },
    body: { alias: 'realm-project' },
  });
  projectId = (await readJson<{ data: { id: string } }>(res, 'api')).data.id;
  c = await connectStdio(sim, { args: ['--realm', REALM] });
});
afterAll(async () => {
  await c?.close();
  await sim?.close();
});

describe('realm-scoped server', () => {
  it('sees only the realm: its project, not the seeded container', async () => {
    const p = await call(c.client, 'project_list');
    expect(p.text).toContain(projectId);
    expect(p.text).not.toContain(sim.projectId);
    const l = await call(c.client, 'container_list');
    expect(l.text).not.toContain(sim.containerId);
    const g = await call(c.client, 'container_get', { container: sim.containerId });
    expect(g.isError).toBe(true);
  });

  it('creates a container in the realm and reaches its kits', async () => {
    const r = await call(c.client, 'container_create', { name: 'realm-box' });
    expect(r.isError, r.text).toBe(false);
    const id = (r.structured as { id: string }).id;
    expect(sim.requests.some((q) => q.host === 'api' && q.method === 'POST' && q.path === `/api/v1/projects/${projectId}/containers`)).toBe(true);
    const w = await call(c.client, 'file_write', { container: 'realm-box', path: '/home/user/r.txt', content: 'in realm' });
    expect(w.isError, w.text).toBe(false);
    expect(readFileSync(sim.containerPath(id, '/home/user/r.txt'), 'utf8')).toBe('in realm');
  });
});
