/**
 * The exec toolset in-process: exit codes and output checked against what the simulator ran,
 * jobs past wait_s, input, cancellation, budgets; bad input answered with isError.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, useInproc, waitFor } from '../helpers/inproc.js';
import { everyToolChecks } from './catalogue.js';

const t = useInproc({ argsFor: (sim) => ['--container', sim.containerName] });
const host = (p: string) => t.sim.containerPath(t.sim.containerId, p);
async function put(p: string, content: string) {
  await mkdir(dirname(host(p)), { recursive: true });
  await writeFile(host(p), content);
}

describe('exec toolset', () => {
  it('exec_run returns exit code and output, and ran exactly once', async () => {
    const before = t.sim.executions.length;
    const r = await call(t.c.client, 'exec_run', { command: 'echo hello; echo oops >&2; exit 3' });
    expect(r.isError).toBe(false);
    expect(r.text).toMatch(/^exit 3 · /);
    expect(r.text).toContain('hello\noops');
    expect(r.structured).toMatchObject({ status: 'completed', exit_code: 3, done: true });
    expect(t.sim.executions.length - before).toBe(1);
    expect(t.sim.executions.at(-1)!.command).toBe('echo hello; echo oops >&2; exit 3');
  });

  it('exec_run honours cwd and env, and sees files written through the files kit', async () => {
    await put('/home/user/proj/data.txt', 'from files kit\n');
    const r = await call(t.c.client, 'exec_run', { command: 'pwd; cat data.txt; echo "$GREETING"', cwd: '/home/user/proj', env: { GREETING: 'hi there' } });
    expect(r.text).toContain('/home/user/proj\nfrom files kit\nhi there');
  });

  it('cwd takes ~ and must exist', async () => {
    await put('/home/user/proj2/x.txt', 'x');
    expect((await call(t.c.client, 'exec_run', { command: 'ls', cwd: '~/proj2' })).text).toMatch(/^exit 0[\s\S]*x\.txt/);
    const before = t.sim.executions.length;
    const r = await call(t.c.client, 'exec_run', { command: 'ls', cwd: '/home/user/no-such-dir' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/does not exist/);
    expect(t.sim.executions.length).toBe(before);
  });

  it('a command that outlives wait_s returns a handle, streams progress, and can be polled, fed and cancelled', async () => {
    const progress: string[] = [];
    const r = await call(
      t.c.client,
      'exec_run',
      { command: 'echo start; read name; echo "hello $name"; sleep 30', wait_s: 1 },
      { onprogress: (p) => progress.push(p.message ?? '') },
    );
    expect(r.isError).toBe(false);
    expect(r.text).toMatch(/still running · [\d.]+ s · job (\d+-\d+)/);
    expect(r.text).toContain('start');
    expect(progress.join('\n')).toContain('start');
    const job = (r.structured as { job: string }).job;

    const sent = await call(t.c.client, 'exec_input', { job, text: 'world\n' });
    expect(sent.isError, sent.text).toBe(false);
    const st = await call(t.c.client, 'exec_status', { job, wait_s: 1 });
    expect(st.text).toMatch(/still running/);
    expect(st.text).toContain('hello world');
    expect(st.text).not.toContain('start\n'); // only new output

    const again = await call(t.c.client, 'exec_status', { job });
    expect(again.text).toMatch(/^still running.*\n\(nothing new since the last look; tail=N shows the last N lines\)$/);

    const tail = await call(t.c.client, 'exec_status', { job, tail: 5 });
    expect(tail.text).toContain('start');

    const cancel = await call(t.c.client, 'exec_cancel', { job });
    expect(cancel.isError, cancel.text).toBe(false);
    expect(cancel.structured).toMatchObject({ done: true });

    const after = await call(t.c.client, 'exec_input', { job, keys: ['Enter'] });
    expect(after.isError).toBe(true);
    expect(after.text).toMatch(/has finished/);

    // The finished job stays readable, also as a resource.
    const res = await t.c.client.readResource({ uri: `hoody://containers/${t.sim.containerId}/jobs/${job}` });
    expect((res.contents[0] as { text: string }).text).toContain('hello world');
  });

  it('keys reach the program (Ctrl+C stops it)', async () => {
    const r = await call(t.c.client, 'exec_run', { command: 'echo ready; exec sleep 60', wait_s: 0.5 });
    const job = (r.structured as { job: string }).job;
    await call(t.c.client, 'exec_input', { job, keys: ['Ctrl+C'] });
    const st = await call(t.c.client, 'exec_status', { job, wait_s: 5 });
    expect(st.structured).toMatchObject({ done: true });
  });

  it('output over budget keeps head and tail and links the full output', async () => {
    const r = await call(t.c.client, 'exec_run', { command: 'seq 1 200000' });
    expect(r.text.length).toBeLessThan(33_000);
    expect(r.text).toMatch(/^exit 0/);
    expect(r.text).toContain('\n1\n2\n3\n');
    expect(r.text).toContain('199999\n200000');
    expect(r.text).toMatch(/characters \(\d+ lines\) cut; full output: hoody:\/\/containers\/[0-9a-f]{24}\/jobs\/\d+-\d+/);
    const link = r.content.find((x) => x.type === 'resource_link') as { uri: string } | undefined;
    expect(link).toBeDefined();
    const full = await t.c.client.readResource({ uri: link!.uri });
    expect((full.contents[0] as { text: string }).text.split('\n').length).toBeGreaterThan(200_000);
  });

  it('timeout_s kills the command', async () => {
    const r = await call(t.c.client, 'exec_run', { command: 'sleep 20', timeout_s: 1, wait_s: 10 });
    expect(r.structured).toMatchObject({ done: true });
    expect(r.text).not.toMatch(/^exit 0/);
  });

  it('bad job handles and empty input are refused clearly', async () => {
    const r = await call(t.c.client, 'exec_status', { job: 'nope' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/"nope" is not a job handle/);
    const r2 = await call(t.c.client, 'exec_status', { job: '23456-777' });
    expect(r2.isError).toBe(true);
    expect(r2.text).toMatch(/unknown/);
    const r3 = await call(t.c.client, 'exec_input', { job: '23456-777' });
    expect(r3.isError).toBe(true);
    expect(r3.text).toMatch(/nothing to send/);
    const r4 = await call(t.c.client, 'exec_run', { command: '' });
    expect(r4.isError).toBe(true);
  });
});

describe('exec_cancel', () => {
  it('force=true kills a process that ignores Ctrl+C', async () => {
    const r = await call(t.c.client, 'exec_run', { command: 'trap "" INT; echo armed; sleep 100', wait_s: 0.3 });
    const job = (r.structured as { job: string }).job;
    expect(r.structured).toMatchObject({ done: false });
    const ex = await waitFor('the command to start', () => t.sim.executions.find((e) => e.command.startsWith('trap "" INT')));
    const t0 = Date.now();
    const cancel = await call(t.c.client, 'exec_cancel', { job, force: true });
    expect(cancel.isError, cancel.text).toBe(false);
    expect(cancel.structured).toMatchObject({ done: true });
    expect(ex.endedAt).toBeDefined();
    expect(Date.now() - t0).toBeLessThan(4000); // not the graceful path's 5 s wait
  });
});

everyToolChecks(t, 'exec');
