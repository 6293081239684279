import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../src/sim/index.js';
import { api, hostOf, kit, request } from './helpers.js';

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({});
});
afterAll(async () => {
  await sim.close();
});

describe('fault injection', () => {
  it('502 answers the proxy HTML page, once, then the real handler', async () => {
    sim.faults.add({ target: 'files', status: 502 });
    expect(sim.faults.pending()).toBe(1);
    const F = kit(sim, 'files');
    const r = await F('GET', '/api/v1/files/home/user');
    expect(r.status).toBe(502);
    expect(r.text).toMatch(/^<!DOCTYPE html><html><head><title>Error 502<\/title>/);
    expect(sim.faults.pending()).toBe(0);
    expect((await F('GET', '/api/v1/files/home/user')).status).toBe(200);
  });

  it('afterHandler: the work happens, then the answer is the fault', async () => {
    sim.faults.add({ target: 'files', method: 'PUT', status: 502, afterHandler: true });
    const F = kit(sim, 'files');
    const r = await F('PUT', '/api/v1/files/home/user/after.txt', 'done anyway');
    expect(r.status).toBe(502);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(sim.containerPath(sim.containerId, '/home/user/after.txt'), 'utf8')).toBe('done anyway');
  });

  it('429 has an empty body and Retry-After; times counts matching requests only', async () => {
    sim.faults.add({ target: 'files', method: 'GET', path: '/api/v1/files/grep', status: 429, retryAfter: 2, times: 2 });
    const F = kit(sim, 'files');
    expect((await F('GET', '/api/v1/files/home/user')).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await F('GET', '/api/v1/files/grep/home/user?pattern=x');
      expect(r.status).toBe(429);
      expect(r.text).toBe('');
      expect(r.headers['retry-after']).toBe('2');
    }
    expect((await F('GET', '/api/v1/files/grep/home/user?pattern=x')).status).toBe(200);
  });

  it('json bodies follow each surface: control plane envelope, files {error,success}', async () => {
    sim.faults.add({ target: 'api', path: /^\/api\/v1\/containers\//, status: 500 });
    const r = await api(sim)('GET', `/api/v1/containers/${sim.containerId}`);
    expect(r.json).toMatchObject({ statusCode: 500, error: 'Internal Server Error' });
    sim.faults.add({ target: 'files', status: 503, body: 'json' });
    expect((await kit(sim, 'files')('GET', '/api/v1/files/home')).json).toMatchObject({ success: false });
    sim.faults.add({ target: '*', status: 504, retryAfter: 1 });
    const any = await api(sim)('GET', '/api/v1/projects/');
    expect(any.status).toBe(504);
    expect(any.headers['content-type']).toMatch(/text\/html/);
    expect(any.headers['retry-after']).toBe('1');
  });

  it('reset destroys the connection, and the request is logged with status 0', async () => {
    sim.faults.add({ target: 'terminal', reset: true, status: 0 });
    await expect(kit(sim, 'terminal')('GET', '/api/v1/terminal/health')).rejects.toThrow();
    const last = sim.requests.filter((x) => x.host === 'terminal').at(-1);
    expect(last).toMatchObject({ path: '/api/v1/terminal/health', status: 0 });
  });

  it('delay answers late (lets clients test their timeouts)', async () => {
    sim.faults.add({ target: 'api', status: 503, delayMs: 300 });
    const host = hostOf(sim.apiUrl);
    await expect(request(sim.port, host, 'GET', '/api/v1/meta/public-key', { timeoutMs: 100 })).rejects.toThrow('timeout');
    sim.faults.add({ target: 'api', status: 503, delayMs: 150 });
    const t0 = Date.now();
    const r = await request(sim.port, host, 'GET', '/api/v1/meta/public-key');
    expect(r.status).toBe(503);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('a fault answers instead of the handler: no command starts', async () => {
    const before = sim.executions.length;
    sim.faults.add({ target: 'terminal', method: 'POST', path: '/api/v1/terminal/execute', status: 502 });
    const r = await kit(sim, 'terminal')('POST', '/api/v1/terminal/execute?ephemeral=true', { command: 'touch /tmp/should-not-exist' });
    expect(r.status).toBe(502);
    expect(sim.executions.length).toBe(before);
    const logged = sim.requests.filter((x) => x.path === '/api/v1/terminal/execute').at(-1);
    expect(logged).toMatchObject({ method: 'POST', host: 'terminal', containerId: sim.containerId, query: 'ephemeral=true', status: 502 });
    sim.faults.add({ target: 'files', status: 502, times: 5 });
    sim.faults.clear();
    expect(sim.faults.pending()).toBe(0);
  });
});
