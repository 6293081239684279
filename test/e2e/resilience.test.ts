/**
 * Hoody misbehaving: 502 bursts, 429 with Retry-After, resets, the warm-up window, a stopped
 * container, and a client cancelling mid-command. Checked against what the simulator saw.
 */
import { describe, expect, it } from 'vitest';
import { call, connectStdio, ERAS, useSimAndStdio, waitFor } from '../helpers/harness.js';

const t = useSimAndStdio();

const count = (host: string, method: string, pathPart: string) =>
  t.sim.requests.filter((r) => r.host === host && r.method === method && r.path.includes(pathPart)).length;

describe('retries', () => {
  it('rides out a 502 burst on a read', async () => {
    // file_read is one GET of the file itself
    t.sim.faults.add({ target: 'files', method: 'GET', path: '/api/v1/files/etc/hostname', status: 502, times: 3 });
    const before = count('files', 'GET', '/api/v1/files/etc/hostname');
    const r = await call(t.c.client, 'file_read', { path: '/etc/hostname' });
    expect(r.isError, r.text).toBe(false);
    // The simulator logs a request when its answer has been flushed, which may come after the
    // answer reached the client: wait for the log to catch up, then count exactly.
    await waitFor('the simulator to log the answered read', () => count('files', 'GET', '/api/v1/files/etc/hostname') - before >= 4);
    expect(count('files', 'GET', '/api/v1/files/etc/hostname') - before).toBe(4);
  });

  it('waits out a 429 with Retry-After on the control plane', async () => {
    t.sim.faults.add({ target: 'api', method: 'GET', path: '/api/v1/projects/', status: 429, retryAfter: 1, times: 1 });
    const t0 = Date.now();
    const r = await call(t.c.client, 'project_list');
    expect(r.isError, r.text).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it('never re-sends a command blindly: a 502 on execute is checked, then the command runs exactly once', async () => {
    t.sim.faults.add({ target: 'terminal', method: 'POST', path: '/api/v1/terminal/execute', status: 502, times: 2 });
    const before = t.sim.executions.length;
    const r = await call(t.c.client, 'exec_run', { command: 'echo once' });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toContain('once');
    expect(t.sim.executions.length - before).toBe(1);
  });

  it('a command whose answer was lost after it started is followed, not re-run', async () => {
    t.sim.faults.add({ target: 'terminal', method: 'POST', path: '/api/v1/terminal/execute', status: 502, afterHandler: true, times: 5 });
    const before = t.sim.executions.length;
    const r = await call(t.c.client, 'exec_run', { command: 'echo lost-answer' });
    t.sim.faults.clear();
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toMatch(/^exit 0[\s\S]*lost-answer/);
    expect(t.sim.executions.length - before).toBe(1);
  });

  it('container_create whose answer was lost finds the container instead of creating a second', async () => {
    t.sim.faults.add({ target: 'api', method: 'POST', path: `/api/v1/projects/${t.sim.projectId}/containers`, status: 502, afterHandler: true, times: 5 });
    const r = await call(t.c.client, 'container_create', { name: 'lost-answer-box' });
    t.sim.faults.clear();
    expect(r.isError, r.text).toBe(false);
    const list = await call(t.c.client, 'container_list');
    expect(list.text.split('\n').filter((l) => l.includes('lost-answer-box'))).toHaveLength(1);
  });

  it('container_create rides out a 502 that reached nobody (checked, then re-sent once)', async () => {
    t.sim.faults.add({ target: 'api', method: 'POST', path: `/api/v1/projects/${t.sim.projectId}/containers`, status: 502, times: 1 });
    const r = await call(t.c.client, 'container_create', {});
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toMatch(/created hoody-[0-9a-f]{8} /);
  });

  it('a connection reset on a read is retried', async () => {
    t.sim.faults.add({ target: 'files', method: 'GET', path: '/api/v1/files/stat', reset: true, status: 0, times: 1 });
    const r = await call(t.c.client, 'file_read', { path: '/etc/hostname' });
    expect(r.isError, r.text).toBe(false);
  });

  it('gives up after a bounded number of tries with a clear error', async () => {
    t.sim.faults.add({ target: 'files', method: 'GET', status: 503, times: 50 });
    const t0 = Date.now();
    const r = await call(t.c.client, 'file_list', { path: '/home/user' });
    t.sim.faults.clear();
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/could not reach the container's files kit \(HTTP 503\)/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('a files kit that accepts and never answers fails file_read within its deadline, saying what hung', async () => {
    t.sim.faults.add({ target: 'files', method: 'GET', path: '/api/v1/files/etc/hostname', status: 200, delayMs: 120_000, times: 20 });
    const t0 = Date.now();
    const r = await call(t.c.client, 'file_read', { path: '/etc/hostname' });
    t.sim.faults.clear();
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/files kit of container [0-9a-f]{24} did not answer GET \/api\/v1\/files\/etc\/hostname within 25 s/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 40_000);

  it('a 429 with a Retry-After beyond the bound is reported, not waited out', async () => {
    t.sim.faults.add({ target: 'api', method: 'GET', status: 429, retryAfter: 3600, times: 1 });
    const r = await call(t.c.client, 'project_list');
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/rate limited|Too Many/i);
  });
});

describe('kit URL cache', () => {
  it("a kit's own 404 (a missing file) keeps the cached URL; the proxy's 404 page drops it", async () => {
    await call(t.c.client, 'file_list', { path: '/home/user' }); // warm
    const lookups = () => t.sim.requests.filter((q) => q.host === 'api' && q.method === 'GET' && q.path === `/api/v1/containers/${t.sim.containerId}`).length;
    const before = lookups();
    for (let i = 0; i < 3; i++) expect((await call(t.c.client, 'file_read', { path: `/home/user/missing-${i}.txt` })).isError).toBe(true);
    expect(lookups()).toBe(before);
    t.sim.faults.add({ target: 'files', status: 404, body: 'html', times: 1 });
    await call(t.c.client, 'file_list', { path: '/home/user' });
    await call(t.c.client, 'file_list', { path: '/home/user' });
    expect(lookups()).toBe(before + 1);
  });
});

describe('container states', () => {
  it('a stopped container: tools say so and what to do', async () => {
    t.sim.setContainerStatus(t.sim.containerId, 'stopped');
    try {
      const r = await call(t.c.client, 'exec_run', { command: 'true' });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/is stopped — call container_action with action "start" first/);
    } finally {
      t.sim.setContainerStatus(t.sim.containerId, 'running');
    }
  });

  it('rides out the warm-up 502 window after start', async () => {
    t.sim.setWarmup(t.sim.containerId, 1200);
    const r = await call(t.c.client, 'file_list', { path: '/home/user' });
    expect(r.isError, r.text).toBe(false);
  });
});

describe('cancellation', () => {
  it('a client cancel mid-command aborts the request and kills the remote command', async () => {
    const ac = new AbortController();
    const before = t.sim.executions.length;
    const p = call(t.c.client, 'exec_run', { command: 'sleep 40; echo never', wait_s: 30 }, { signal: ac.signal });
    await waitFor('the command to start', () => t.sim.executions[before]);
    ac.abort();
    await expect(p).rejects.toThrow();
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline && t.sim.executions[before]?.endedAt === undefined) await new Promise((r) => setTimeout(r, 100));
    const ex = t.sim.executions[before]!;
    expect(ex.command).toBe('sleep 40; echo never');
    expect(ex.endedAt).toBeDefined();
    expect(ex.endedAt! - ex.startedAt).toBeLessThan(20_000);
  });
});

describe('progress', () => {
  it('a quiet command still reports progress at least every 10 s', async () => {
    const at: number[] = [];
    const t0 = Date.now();
    const r = await call(t.c.client, 'exec_run', { command: 'sleep 11.5' }, { onprogress: () => at.push(Date.now() - t0) });
    expect(r.text).toMatch(/^exit 0/);
    expect(at.length).toBeGreaterThanOrEqual(1);
    expect(at[0]!).toBeLessThan(10_600);
  });
});

describe('protocol eras over stdio', () => {
  for (const era of ERAS) {
    it(`${era}: connects, lists, runs a command with progress`, async () => {
      const cc = await connectStdio(t.sim, { era, args: ['--container', t.sim.containerName] });
      try {
        const tools = await cc.client.listTools();
        expect(tools.tools.length).toBeGreaterThanOrEqual(19);
        const progress: string[] = [];
        const r = await call(cc.client, 'exec_run', { command: 'echo a; sleep 0.6; echo b' }, { onprogress: (p) => progress.push(p.message ?? '') });
        expect(r.text).toMatch(/^exit 0[\s\S]*a\nb/);
        expect(progress.length).toBeGreaterThan(0);
      } finally {
        await cc.close();
      }
    });
  }
});
