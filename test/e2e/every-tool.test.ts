/**
 * Every tool, over stdio and over HTTP: an unknown container, a stopped container and malformed
 * input each get a clear isError that says what to do — and nothing is executed or written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, connectHttp, connectStdio, simFor, startHttpServer, type Connected, type HttpServer } from '../helpers/harness.js';

let sim: Sim;
let srv: HttpServer;
const clients: Record<string, Connected> = {};

/** Minimal valid arguments for every tool that addresses a container. */
const ARGS: Record<string, Record<string, unknown>> = {
  container_get: {},
  container_action: { action: 'restart' },
  container_delete: {},
  container_snapshot: { action: 'list' },
  exec_run: { command: 'echo should-not-run' },
  exec_status: { job: '23456-7' },
  exec_input: { job: '23456-7', text: 'x' },
  exec_cancel: { job: '23456-7' },
  file_read: { path: '/etc/hostname' },
  file_write: { path: '/home/user/never.txt', content: 'x' },
  file_edit: { path: '/home/user/never.txt', old_string: 'a', new_string: 'b' },
  file_list: { path: '/home/user' },
  file_search: { pattern: 'x' },
  file_manage: { op: 'mkdir', path: '/home/user/never' },
  file_delete: { path: '/home/user/never.txt' },
  file_watch: { paths: ['/home/user'], wait_s: 1 },
  file_transfer: { direction: 'download', local_path: '/tmp/never-hoody', remote_path: '/etc/hostname' },
};

/** Input each tool must refuse before doing anything. */
const BAD: Record<string, Record<string, unknown>> = {
  project_list: { extra: 1 },
  container_list: { project: 5 },
  container_get: { container: 42 },
  container_create: { name: 'x' },
  container_action: { action: 'explode' },
  container_delete: { container: '' },
  container_snapshot: { action: 'zap' },
  exec_run: { command: '' },
  exec_status: { job: 7 },
  exec_input: { job: '1-1', keys: 'Enter' },
  exec_cancel: { force: 'yes' },
  file_read: { path: '/x', offset: 0 },
  file_write: { path: '/x' },
  file_edit: { path: '/x', old_string: '', new_string: 'y' },
  file_list: {},
  file_search: { pattern: '' },
  file_manage: { op: 'link', path: '/x' },
  file_delete: { path: 3 },
  file_watch: { paths: [] },
  file_transfer: { direction: 'sideways', local_path: '/a', remote_path: '/b' },
};

beforeAll(async () => {
  sim = await simFor();
  srv = await startHttpServer(sim);
  clients.stdio = await connectStdio(sim);
  clients.http = await connectHttp(srv.url, sim.token);
});
afterAll(async () => {
  for (const c of Object.values(clients)) await c.close();
  await srv?.close();
  await sim?.close();
});

for (const transport of ['stdio', 'http'] as const) {
  describe(`${transport}: every tool`, () => {
    it('lists a tool for every entry here (the tables cover the catalogue)', async () => {
      const { tools } = await clients[transport]!.client.listTools();
      for (const t of tools) expect(Object.keys(BAD)).toContain(t.name);
    });

    it.each(Object.keys(ARGS))('%s: unknown container → isError naming it and what to do', async (name) => {
      const before = sim.executions.length;
      const r = await call(clients[transport]!.client, name, { container: 'ghost-box', ...ARGS[name] });
      expect(r.isError).toBe(true);
      if (name === 'file_transfer' && transport === 'http') expect(r.text).toMatch(/not available on a remote server/);
      else expect(r.text).toMatch(/no container named or with id "ghost-box" — call container_list/);
      expect(sim.executions.length).toBe(before);
    });

    it.each(Object.keys(BAD))('%s: malformed input → isError', async (name) => {
      const before = sim.executions.length;
      const r = await call(clients[transport]!.client, name, { ...(name.startsWith('project') || name.startsWith('container_list') || name === 'container_create' ? {} : { container: sim.containerId }), ...BAD[name] });
      expect(r.isError, `${name}: ${r.text}`).toBe(true);
      expect(r.text.length).toBeGreaterThan(10);
      expect(r.text).not.toMatch(/at .*\.js:\d+/); // never a stack trace
      expect(sim.executions.length).toBe(before);
    });
  });
}

describe('a stopped container', () => {
  const KIT_TOOLS = ['exec_run', 'exec_status', 'exec_input', 'exec_cancel', 'file_read', 'file_write', 'file_edit', 'file_list', 'file_search', 'file_manage', 'file_delete', 'file_watch'];
  beforeAll(() => sim.setContainerStatus(sim.containerId, 'stopped'));
  afterAll(() => sim.setContainerStatus(sim.containerId, 'running'));

  it.each(KIT_TOOLS)('%s says it is stopped and to start it', async (name) => {
    const before = sim.executions.length;
    const r = await call(clients.stdio!.client, name, { container: sim.containerId, ...ARGS[name] });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/is stopped — call container_action with action "start" first/);
    expect(sim.executions.length).toBe(before);
  });
});
