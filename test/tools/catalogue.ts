/**
 * Every tool, in its toolset's suite: an unknown container, a stopped container and malformed
 * input each get a clear isError that says what to do — and nothing is executed or written.
 * (Moved from test/e2e/every-tool.test.ts; the assertions are the same, run once in-process.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { allTools } from '../../tools/index.js';
import { call, type Connected } from '../helpers/shared.js';

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
  browser_navigate: { url: 'http://127.0.0.1:9/never' },
  browser_snapshot: {},
  browser_screenshot: {},
  browser_act: { action: 'reload' },
  browser_eval: { script: '1' },
  browser_tabs: { action: 'list' },
  browser_logs: { kind: 'console' },
  display_screenshot: {},
  display_act: { action: 'key', keys: ['Escape'] },
  display_windows: { action: 'list' },
  agent_run: { prompt: 'never', wait_s: 1 },
  agent_reply: { session: 'abc', answer: 'x' },
  agent_status: { session: 'abc' },
  agent_cancel: { session: 'abc' },
  agent_sessions: {},
  service_start: { command: 'echo should-not-run' },
  service_list: {},
  service_logs: { service: 'x' },
  service_stop: { service: 'x' },
  port_url: { port: 8080 },
  sqlite_query: { db: 'app', sql: 'SELECT 1' },
  hoody_request: { kit: 'files', method: 'GET', path: '/home/user' },
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
  browser_navigate: { url: 'javascript:alert(1)' },
  browser_snapshot: { offset: -1 },
  browser_screenshot: { full_page: 'yes' },
  browser_act: { action: 'explode' },
  browser_eval: { script: '' },
  browser_tabs: { action: 'zap' },
  browser_logs: { kind: 'dns' },
  display_screenshot: { display: 0 },
  display_act: { action: 'click', x: -1, y: 5 },
  display_windows: { action: 'kill' },
  agent_run: { prompt: '' },
  agent_reply: { session: 'abc', approve: 'yes' },
  agent_status: { session: 'abc', wait_s: 99 },
  agent_cancel: {},
  agent_sessions: { extra: 1 },
  service_start: { command: '' },
  service_list: { extra: 1 },
  service_logs: { service: 'x', stream: 'both' },
  service_stop: { service: '' },
  port_url: { port: 70_000 },
  sqlite_query: { db: 'app', sql: [] },
  hoody_request: { kit: 'api', method: 'TRACE', path: '/' },
};

export const TOOL_ARGS = { ok: ARGS, bad: BAD };

const TOOLSET_OF = (name: string) => allTools.find((t) => t.name === name)?.toolset;
/** Tools that reach a container's kits (not the control plane, not this machine). */
const KIT_TOOLS = allTools.filter((t) => t.scope && t.toolset !== 'containers' && !t.localOnly).map((t) => t.name);

/** The every-tool checks for one toolset's tools, against the suite's simulator and client. */
export function everyToolChecks(t: { sim: Sim; c: Connected }, toolset: string) {
  const mine = (names: string[]) => names.filter((n) => TOOLSET_OF(n) === toolset);

  describe(`every ${toolset} tool`, () => {
    it.each(mine(Object.keys(ARGS)))('%s: unknown container → isError naming it and what to do', async (name) => {
      const before = t.sim.executions.length;
      const r = await call(t.c.client, name, { container: 'ghost-box', ...ARGS[name] });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/no container named or with id "ghost-box" — call container_list/);
      expect(t.sim.executions.length).toBe(before);
    });

    it.each(mine(Object.keys(BAD)))('%s: malformed input → isError', async (name) => {
      const sim = t.sim;
      const before = sim.executions.length;
      const r = await call(t.c.client, name, { ...(name.startsWith('project') || name.startsWith('container_list') || name === 'container_create' ? {} : { container: sim.containerId }), ...BAD[name] });
      expect(r.isError, `${name}: ${r.text}`).toBe(true);
      expect(r.text.length).toBeGreaterThan(10);
      expect(r.text).not.toMatch(/at .*\.js:\d+/); // never a stack trace
      expect(sim.executions.length).toBe(before);
    });
  });

  const kit = mine(KIT_TOOLS);
  if (!kit.length) return;
  // Independent calls that each wait out the kit's refusal: run side by side.
  describe.concurrent(`a stopped container (${toolset})`, () => {
    beforeAll(() => t.sim.setContainerStatus(t.sim.containerId, 'stopped'));
    afterAll(() => t.sim.setContainerStatus(t.sim.containerId, 'running'));

    it.each(kit)('%s says it is stopped and to start it', async (name) => {
      const before = t.sim.executions.length;
      const r = await call(t.c.client, name, { container: t.sim.containerId, ...ARGS[name] });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/is stopped — call container_action with action "start" first/);
      expect(t.sim.executions.length).toBe(before);
    });
  });
}
