/**
 * One success path per tool per transport: the built binary over stdio and over HTTP, each tool
 * called once the way an agent would, checked against the simulator. Behaviour in depth (bad
 * input, edge cases, budgets) is tested in-process in test/tools.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, useSimAndHttp, useSimAndStdio, type ToolCall } from '../helpers/harness.js';
import { servePages, type Pages } from '../helpers/pages.js';

interface Step {
  tool: string;
  args: (s: State) => Record<string, unknown>;
  check: (r: ToolCall, s: State) => void | Promise<void>;
  stdioOnly?: boolean;
}
interface State {
  sim: Sim;
  host: (p: string) => string;
  job?: string;
  box?: string;
  frame?: string;
  session?: string;
  svc?: string;
  local: string;
  pages: Pages;
  ref?: string;
}

const PAGE = `<!doctype html><title>E2E page</title><label>Note <input oninput="console.log('typed ' + this.value)"></label>`;

const STEPS: Step[] = [
  { tool: 'project_list', args: () => ({}), check: (r, s) => expect(r.text).toContain(s.sim.projectId) },
  { tool: 'container_list', args: () => ({}), check: (r, s) => expect(r.text).toContain(s.sim.containerId) },
  { tool: 'container_get', args: () => ({}), check: (r, s) => expect(r.text).toContain(`${s.sim.containerName} (${s.sim.containerId}) — running`) },
  {
    tool: 'service_start',
    args: () => ({ command: 'echo svc-out; exec sleep 30', name: 'e2e-svc' }),
    check: (r, s) => {
      expect(r.text).toMatch(/^started one-off quick_\d+_\d+ \(e2e-svc\)/);
      s.svc = (r.structured as { service: string }).service;
    },
  },
  {
    tool: 'file_write',
    args: () => ({ path: '/home/user/ok/a.txt', content: 'one\ntwo\n' }),
    check: (_r, s) => expect(readFileSync(s.host('/home/user/ok/a.txt'), 'utf8')).toBe('one\ntwo\n'),
  },
  { tool: 'file_read', args: () => ({ path: '/home/user/ok/a.txt' }), check: (r) => expect(r.text).toBe('     1\tone\n     2\ttwo') },
  {
    tool: 'file_edit',
    args: () => ({ path: '/home/user/ok/a.txt', old_string: 'two', new_string: 'three' }),
    check: (r, s) => {
      expect(r.text).toContain('- two\n+ three');
      expect(readFileSync(s.host('/home/user/ok/a.txt'), 'utf8')).toBe('one\nthree\n');
    },
  },
  { tool: 'file_list', args: () => ({ path: '/home/user/ok' }), check: (r) => expect(r.text).toMatch(/f\s+10 B\s+a\.txt/) },
  { tool: 'file_search', args: () => ({ pattern: 'three', path: '/home/user/ok' }), check: (r) => expect(r.text).toContain('/home/user/ok/a.txt:2: three') },
  {
    tool: 'file_manage',
    args: () => ({ op: 'copy', path: '/home/user/ok/a.txt', to: '/home/user/ok/b.txt' }),
    check: (_r, s) => expect(readFileSync(s.host('/home/user/ok/b.txt'), 'utf8')).toBe('one\nthree\n'),
  },
  { tool: 'file_watch', args: () => ({ paths: ['/home/user/ok'], wait_s: 0.2 }), check: (r) => expect(r.text).toMatch(/^no changes within 0\.2 s · cursor /) },
  {
    tool: 'file_transfer',
    stdioOnly: true,
    args: (s) => ({ direction: 'download', local_path: s.local, remote_path: '/home/user/ok/b.txt' }),
    check: (_r, s) => expect(readFileSync(s.local, 'utf8')).toBe('one\nthree\n'),
  },
  { tool: 'file_delete', args: () => ({ path: '/home/user/ok/b.txt' }), check: (r) => expect(r.text).toMatch(/b\.txt/) },
  {
    tool: 'exec_run',
    args: () => ({ command: 'echo started; read x; echo "got $x"; sleep 30', wait_s: 0.5 }),
    check: (r, s) => {
      expect(r.text).toMatch(/still running/);
      s.job = (r.structured as { job: string }).job;
    },
  },
  { tool: 'exec_input', args: (s) => ({ job: s.job, text: 'it\n' }), check: (r) => expect(r.text).toMatch(/^sent/) },
  { tool: 'exec_status', args: (s) => ({ job: s.job, wait_s: 1 }), check: (r) => expect(r.text).toContain('got it') },
  { tool: 'exec_cancel', args: (s) => ({ job: s.job }), check: (r) => expect(r.structured).toMatchObject({ done: true }) },
  {
    tool: 'display_screenshot',
    args: () => ({}),
    check: (r, s) => {
      expect(r.content.some((c) => c.type === 'image')).toBe(true);
      s.frame = (r.structured as { frame: string }).frame;
    },
  },
  { tool: 'display_act', args: (s) => ({ action: 'click', x: 300, y: 200, frame: s.frame }), check: (r) => expect(r.text).toMatch(/^click at \(300,200\) → canvas \(\d+,\d+\) · pixels around the point changed/) },
  { tool: 'display_windows', args: () => ({ action: 'list' }), check: (r) => expect(r.text).toMatch(/"Desktop - b1 \d+,\d+"/) },
  {
    tool: 'agent_run',
    args: (s) => (s.sim.agent.script('e2e: tidy up', [{ text: 'MARK-1' }, { confirm: 'rm -rf build' }, { text: 'MARK-2' }]), { prompt: 'e2e: tidy up' }),
    check: (r, s) => {
      expect(r.text).toMatch(/· awaiting_confirm\nMARK-1\n\? confirm bash: rm -rf build/);
      s.session = (r.structured as { session: string }).session;
    },
  },
  { tool: 'agent_reply', args: (s) => ({ session: s.session, approve: true }), check: (r) => expect(r.text).toMatch(/· idle\n↳ approved\n← ok\nMARK-2\n■ done/) },
  { tool: 'agent_status', args: (s) => ({ session: s.session }), check: (r) => expect(r.text).toBe(`session ${(r.structured as { session: string }).session} · idle`) },
  { tool: 'agent_cancel', args: (s) => ({ session: s.session }), check: (r) => expect(r.structured).toMatchObject({ state: 'idle' }) },
  { tool: 'agent_sessions', args: () => ({}), check: (r, s) => expect(r.text).toContain(`${s.session}  idle`) },
  {
    tool: 'container_create',
    args: () => ({}),
    check: (r, s) => {
      expect(r.text).toMatch(/created hoody-[0-9a-f]{8} \([0-9a-f]{24}\), running, kits answering/);
      s.box = (r.structured as { id: string }).id;
    },
  },
  { tool: 'container_action', args: (s) => ({ container: s.box, action: 'stop' }), check: (r) => expect(r.text).toMatch(/: stopped/) },
  { tool: 'container_snapshot', args: (s) => ({ container: s.box, action: 'list' }), check: (r) => expect(r.isError).toBe(false) },
  {
    tool: 'browser_navigate',
    args: (s) => ({ url: s.pages.url('/e2e') }),
    check: (r, s) => {
      expect(r.text).toMatch(/^E2E page — http/);
      s.ref = /\[(e\d+) textbox Note\]/.exec(r.text)?.[1];
      expect(s.ref).toBeDefined();
    },
  },
  { tool: 'browser_snapshot', args: () => ({}), check: (r, s) => expect(r.text).toContain(`[${s.ref} textbox Note]`) },
  { tool: 'browser_act', args: (s) => ({ action: 'type', ref: s.ref, text: 'hi' }), check: (r) => expect(r.text).toMatch(/^typed into \[e\d+ textbox Note\] · now = "hi"$/) },
  { tool: 'browser_eval', args: () => ({ script: 'document.querySelector("input").value' }), check: (r) => expect(r.text).toBe('"hi"') },
  { tool: 'browser_screenshot', args: () => ({}), check: (r) => expect(r.content.some((c) => c.type === 'image')).toBe(true) },
  { tool: 'browser_tabs', args: () => ({ action: 'list' }), check: (r) => expect(r.text).toMatch(/^\d+ tabs? \(\* current\)\n\* \d+ http/) },
  { tool: 'browser_logs', args: () => ({ kind: 'console' }), check: (r) => expect(r.text).toMatch(/log: typed hi/) },
  { tool: 'service_list', args: () => ({}), check: (r, s) => expect(r.text).toContain(`${s.svc}  e2e-svc  one-off`) },
  { tool: 'service_stop', args: (s) => ({ service: s.svc }), check: (r, s) => expect(r.text).toBe(`stopped ${s.svc} (e2e-svc)`) },
  { tool: 'service_logs', args: (s) => ({ service: s.svc }), check: (r) => expect(r.text).toContain('svc-out') },
  { tool: 'port_url', args: () => ({ port: 1 }), check: (r) => expect(r.structured).toMatchObject({ answers: false }) },
  {
    tool: 'sqlite_query',
    args: () => ({ db: 'e2e', create: true, sql: ['CREATE TABLE t (v TEXT)', 'INSERT INTO t VALUES (?)', 'SELECT v FROM t'], params: [[], ["it's"], []] }),
    check: (r) => expect(r.text).toContain("rows 1-1 of 1\nv\nit's"),
  },
  { tool: 'hoody_request', args: () => ({ kit: 'api', method: 'GET', path: '/api/v1/projects/' }), check: (r) => expect(r.text).toMatch(/^HTTP 200/) },
  { tool: 'container_delete', args: (s) => ({ container: s.box }), check: (r, s) => expect(r.text).toMatch(new RegExp(`^deleted hoody-[0-9a-f]{8} \\(${s.box}\\)\nNot confirmed: this client cannot ask its user`)) },
];

describe.each(['stdio', 'http'] as const)('%s: one success path per tool', (transport) => {
  const args = (sim: Sim) => ['--container', sim.containerId, '--toolsets', 'all'];
  const t = transport === 'stdio' ? useSimAndStdio({ args }) : useSimAndHttp({ args });
  const s = {} as State;
  beforeAll(async () => {
    s.pages = await servePages();
    s.pages.set('/e2e', PAGE);
  });
  afterAll(() => s.pages?.close());

  it('covers every listed tool', async () => {
    const { tools } = await t.c.client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(STEPS.map((x) => x.tool).sort());
  });

  it.each(STEPS.filter((x) => transport === 'stdio' || !x.stdioOnly))('$tool', async (step) => {
    s.sim = t.sim;
    s.host = (p) => t.sim.containerPath(t.sim.containerId, p);
    s.local ??= join(mkdtempSync(join(tmpdir(), 'hoody-ok-')), 'b.txt');
    const r = await call(t.c.client, step.tool, step.args(s));
    expect(r.isError, r.text).toBe(false);
    await step.check(r, s);
  });
});
