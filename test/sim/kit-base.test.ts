/** What every kit gets from the shared base (`src/sim/kits/base.ts`), each in its own error envelope. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../src/sim/index.js';
import { kit } from './helpers.js';

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({});
});
afterAll(async () => {
  await sim.close();
});

const HEALTH_KEYS = ['built', 'fds', 'ip', 'memory', 'pid', 'service', 'started', 'status', 'userAgent'];

describe('kit base', () => {
  it('serves the standard 9-field health body at /api/v1/{slug}/health for every kit', async () => {
    for (const [slug, service] of [['terminal', 'hoody-terminal'], ['files', 'hoody-files'], ['watch', 'watch']] as const) {
      const r = await kit(sim, slug)('GET', `/api/v1/${slug}/health`, undefined, { 'User-Agent': 'kit-base-test' });
      expect(r.status, slug).toBe(200);
      expect(Object.keys(r.json).sort(), slug).toEqual(HEALTH_KEYS);
      expect(r.json, slug).toMatchObject({ status: 'ok', service, userAgent: 'kit-base-test', memory: { rss: expect.any(Number), heap: expect.any(Number) } });
    }
  });

  it('answers a JSON body over the size bound with 413 in the kit envelope', async () => {
    const huge = JSON.stringify({ command: 'x'.repeat(9 * 1024 * 1024) });
    const t = await kit(sim, 'terminal')('POST', '/api/v1/terminal/execute?ephemeral=true', huge, { 'Content-Type': 'application/json' });
    expect(t.status).toBe(413);
    expect(t.json).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'Request body too large' });
    const w = await kit(sim, 'watch')('POST', '/watchers', huge, { 'Content-Type': 'application/json' });
    expect(w.status).toBe(413);
    expect(w.json).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large', details: null });
  });

  it('answers a body that is not a JSON object with 400 in the kit envelope', async () => {
    const t = await kit(sim, 'terminal')('POST', '/api/v1/terminal/execute?ephemeral=true', '[1,2]', { 'Content-Type': 'application/json' });
    expect(t.json).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Invalid JSON body' });
    const f = await kit(sim, 'files')('PATCH', '/api/v1/files/home/user/x.txt', '{oops', { 'Content-Type': 'application/json' });
    expect(f.status).toBe(400);
    expect(f.json).toEqual({ error: 'Invalid JSON body', success: false });
  });

  it('answers route-table misses in the envelope, or bare (watch: 405 with Allow)', async () => {
    const t = await kit(sim, 'terminal')('PUT', '/api/v1/terminal/keys');
    expect(t.status).toBe(405);
    expect(t.json).toEqual({ statusCode: 405, error: 'Method Not Allowed', message: 'Request method is not GET' });
    const w = await kit(sim, 'watch')('POST', '/api/v1/watch/health');
    expect(w.status).toBe(405);
    expect(w.headers.allow).toBe('GET');
    expect(w.text).toBe('');
  });

  it('answers an injected JSON fault in the kit envelope', async () => {
    sim.faults.add({ target: 'watch', status: 500, body: 'json' });
    const w = await kit(sim, 'watch')('GET', '/watchers');
    expect(w.status).toBe(500);
    expect(w.json).toEqual({ code: 'INTERNAL_ERROR', message: 'Injected fault 500', details: null });
    sim.faults.add({ target: 'terminal', status: 500, body: 'json' });
    expect((await kit(sim, 'terminal')('GET', '/api/v1/terminal/sessions')).json).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Injected fault 500' });
  });
});
