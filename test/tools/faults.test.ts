/**
 * Fault injection through the simulator (issue 17): Hoody answers with resets mid-body, malformed
 * JSON, HTML pages where JSON belongs, and stalls past every timeout. Checked against the
 * simulator's own counters (request log, command executions, files on disk): no non-idempotent
 * request is sent twice, and nothing written is lost.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../src/sim/types.js';
import { call, useInproc } from '../helpers/inproc.js';

const t = useInproc({ argsFor: (sim) => ['--container', sim.containerId, '--toolsets', 'all'] });

const sent = (host: string, method: string, path: string | RegExp, since: number) =>
  t.sim.requests.slice(since).filter((r) => r.host === host && r.method === method && (typeof path === 'string' ? r.path.startsWith(path) : path.test(r.path))).length;

/** The three answers a proxy in a bad mood gives, each after the real work was done. */
const LOST: Record<string, Omit<FaultSpec, 'target'>> = {
  'reset mid-body': { status: 200, reset: 'mid-body', afterHandler: true },
  'malformed JSON': { status: 200, body: 'malformed', afterHandler: true },
  'an HTML page': { status: 200, body: 'html', afterHandler: true },
};

describe('faults after the work was done: the answer is lost, the work is not repeated', () => {
  it.each(Object.entries(LOST))('exec_run, %s: the command runs once and its output is shown', async (_name, spec) => {
    const tag = `fault-${Math.random().toString(36).slice(2, 8)}`;
    const before = { req: t.sim.requests.length, ex: t.sim.executions.length };
    t.sim.faults.add({ target: 'terminal', method: 'POST', path: '/api/v1/terminal/execute', ...spec });
    const r = await call(t.c.client, 'exec_run', { command: `echo ${tag}` });
    t.sim.faults.clear();
    expect(t.sim.executions.slice(before.ex).filter((e) => e.command.includes(tag))).toHaveLength(1);
    expect(sent('terminal', 'POST', '/api/v1/terminal/execute', before.req)).toBe(1);
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toContain(tag);
  });

  it.each(Object.entries(LOST))('container_create, %s: one container, not two', async (_name, spec) => {
    const name = `fault-box-${Math.random().toString(36).slice(2, 8)}`;
    const before = t.sim.requests.length;
    t.sim.faults.add({ target: 'api', method: 'POST', path: `/api/v1/projects/${t.sim.projectId}/containers`, ...spec });
    const r = await call(t.c.client, 'container_create', { name, wait_s: 0 });
    t.sim.faults.clear();
    expect(sent('api', 'POST', `/api/v1/projects/${t.sim.projectId}/containers`, before)).toBe(1);
    const list = await call(t.c.client, 'container_list');
    expect(list.text.split('\n').filter((l) => l.includes(name)), r.text).toHaveLength(1);
  });

  it.each(Object.entries(LOST))('file_write, %s: the content on disk is whole', async (_name, spec) => {
    const path = `/home/user/fault-${Math.random().toString(36).slice(2, 8)}.txt`;
    const content = 'x'.repeat(200_000) + '\nend';
    t.sim.faults.add({ target: 'files', method: 'PUT', path: '/api/v1/files/', ...spec });
    const r = await call(t.c.client, 'file_write', { path, content });
    t.sim.faults.clear();
    expect(readFileSync(t.sim.containerPath(t.sim.containerId, path), 'utf8')).toBe(content);
    expect(r.text).not.toMatch(/at \w+ \(|Unexpected token|SyntaxError/);
  });
});

describe('faults before the work: said clearly, nothing half-done', () => {
  it.each(Object.entries(LOST))('hoody_request POST, %s: sent once, never repeated', async (_name, spec) => {
    const before = t.sim.requests.length;
    t.sim.faults.add({ target: 'api', method: 'POST', path: '/api/v1/auth/tokens', ...spec, afterHandler: false });
    const r = await call(t.c.client, 'hoody_request', { kit: 'api', method: 'POST', path: '/api/v1/auth/tokens', body: { name: 'fault' } });
    t.sim.faults.clear();
    expect(sent('api', 'POST', '/api/v1/auth/tokens', before)).toBe(1);
    expect(r.text).not.toMatch(/at \w+ \(|SyntaxError/);
  });
});

describe('stalls past every timeout', () => {
  // Both run at once: the suite waits one deadline (30 s), not two.
  it.concurrent('exec_run whose answer never comes: a clear error within its deadline, the command started once', async () => {
    const tag = `stall-${Math.random().toString(36).slice(2, 8)}`;
    const before = { ex: t.sim.executions.length };
    t.sim.faults.add({ target: 'terminal', method: 'POST', path: '/api/v1/terminal/execute', status: 200, delayMs: 120_000, afterHandler: true });
    const t0 = Date.now();
    const r = await call(t.c.client, 'exec_run', { command: `echo ${tag}`, wait_s: 0 });
    expect(Date.now() - t0).toBeLessThan(35_000);
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/no answer within 30 s.*check before repeating it/);
    // The stalled request is still open (the log records it when it ends); a second POST would
    // have found no fault left and run the command again.
    expect(t.sim.executions.slice(before.ex).filter((e) => e.command.includes(tag))).toHaveLength(1);
  }, 45_000);

  it.concurrent('file_write whose answer never comes: a clear error, and the file on disk is whole', async () => {
    const path = `/home/user/stall-${Math.random().toString(36).slice(2, 8)}.txt`;
    const content = 'y'.repeat(100_000);
    t.sim.faults.add({ target: 'files', method: 'PUT', path: `/api/v1/files${path}`, status: 200, delayMs: 120_000, afterHandler: true, times: 10 });
    const r = await call(t.c.client, 'file_write', { path, content });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/within (25|30|60) s/);
    expect(readFileSync(t.sim.containerPath(t.sim.containerId, path), 'utf8')).toBe(content);
  }, 45_000);
});
