/** hoody_request in-process: the control plane, three kits (one claim-gated), --read-only, hostile paths. */
import { describe, expect, it } from 'vitest';
import { everyToolChecks } from './catalogue.js';
import { call, connectInproc, useInproc } from '../helpers/inproc.js';

const t = useInproc({ argsFor: (sim) => ['--container', sim.containerId, '--toolsets', 'all'] });

describe('raw toolset', () => {
  it('reaches the control plane (envelope unwrapped) and three kits, one needing a claim', async () => {
    const api = await call(t.c.client, 'hoody_request', { kit: 'api', method: 'GET', path: `/api/v1/containers/${t.sim.containerId}` });
    expect(api.isError, api.text).toBe(false);
    expect(api.text).toMatch(/^HTTP 200 application\/json — /);
    expect(api.text).toContain(`"id": "${t.sim.containerId}"`);
    expect(api.text).not.toContain('statusCode');

    const put = await call(t.c.client, 'hoody_request', { kit: 'files', method: 'PUT', path: '/home/user/raw.txt', body: 'raw hello' });
    expect(put.isError, put.text).toBe(false);
    const read = await call(t.c.client, 'hoody_request', { kit: 'files', method: 'GET', path: '/home/user/raw.txt' });
    expect(read.text).toContain('raw hello');

    const health = await call(t.c.client, 'hoody_request', { kit: 'daemon', method: 'GET', path: '/api/v1/daemon/quick-start' });
    expect(health.text).toContain('"ephemeral_programs"');

    const before = t.sim.requests.length;
    const ws = await call(t.c.client, 'hoody_request', { kit: 'workspaces', method: 'GET', path: '/api/v1/workspaces' });
    expect(ws.isError, ws.text).toBe(false);
    expect(ws.text).toContain('"home"');
    // the claim was minted on the control plane for it
    expect(t.sim.requests.slice(before).some((r) => r.host === 'api' && r.path.endsWith('/authorize'))).toBe(true);
  });

  it('kit errors are normalised; hostile kits and paths are refused before any request', async () => {
    const missing = await call(t.c.client, 'hoody_request', { kit: 'daemon', method: 'GET', path: '/api/v1/daemon/quick-start/quick_1_1/status' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('not found');
    const before = t.sim.requests.length;
    for (const path of ['//evil.example/x', '/api/v1/../../x', '/a/%2e%2e/b', '/x?y=1', 'http://evil/', '/a\\b', '/%2e%2e%2fetc']) {
      const r = await call(t.c.client, 'hoody_request', { kit: 'files', method: 'GET', path });
      expect(r.isError, path).toBe(true);
    }
    for (const kit of ['evil.com', 'a/b', 'FILES', 'x'.repeat(50)]) {
      expect((await call(t.c.client, 'hoody_request', { kit, method: 'GET', path: '/' })).isError, kit).toBe(true);
    }
    expect(t.sim.requests.length).toBe(before);
  });

  it('a control-plane route missed for want of its trailing slash says to add it', async () => {
    const r = await call(t.c.client, 'hoody_request', { kit: 'api', method: 'GET', path: '/api/v1/projects' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/not found — its list routes end with a slash: try \/api\/v1\/projects\//);
    const ok = await call(t.c.client, 'hoody_request', { kit: 'api', method: 'GET', path: '/api/v1/projects/' });
    expect(ok.isError, ok.text).toBe(false);
  });

  it('under --read-only only GET is offered: a POST is refused', async () => {
    const ro = await connectInproc(t.sim, { args: ['--container', t.sim.containerId, '--toolsets', 'raw', '--read-only'] });
    try {
      const { tools } = await ro.client.listTools();
      const schema = tools.find((x) => x.name === 'hoody_request')!.inputSchema as unknown as { properties: { method: { enum: string[] } } };
      expect(schema.properties.method.enum).toEqual(['GET', 'HEAD']);
      const r = await ro.client.callTool({ name: 'hoody_request', arguments: { kit: 'api', method: 'POST', path: '/api/v1/projects/', body: { alias: 'x' } } }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
      expect(r.isError).toBe(true);
      const g = await call(ro.client, 'hoody_request', { kit: 'api', method: 'GET', path: '/api/v1/projects/' });
      expect(g.isError, g.text).toBe(false);
    } finally {
      await ro.close();
    }
  });
});

everyToolChecks(t, 'raw');
