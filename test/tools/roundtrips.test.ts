/**
 * Upstream round trips per tool call, as the server's HTTP client makes them (a warmed-up
 * server: the container and its kit URLs are cached). A text file_read is one GET, file_write one
 * PUT, file_edit three (GET, hash check, PUT); exec_run never lists sessions first.
 * And the collision path of that choice: a command queued behind another session's program is
 * taken back and started under another terminal id.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Hoody } from '../../src/core/hoody.js';
import type { TerminalKit } from '../../src/core/kits/terminal.js';
import { Jobs } from '../../src/core/jobs.js';
import { call, useInproc } from '../helpers/inproc.js';

const t = useInproc();

/**
 * The upstream requests one tool call makes (method, kit, path; "?" when it has a query), as the
 * server's HTTP client creates them (undici's diagnostics channel: in order, synchronously).
 */
const made: string[] = [];
let recording = false;
diagnostics_channel.subscribe('undici:request:create', (m) => {
  const { request: r } = m as { request: { method: string; origin: string; path: string } };
  if (!recording) return;
  const kit = /-([a-z]+)-\d+\./.exec(new URL(r.origin).hostname)?.[1] ?? 'api';
  const [path, query] = r.path.split('?');
  made.push(`${r.method} ${kit}${path!.replace(/\/home\/user\/.*/, '/…')}${query ? '?' : ''}`);
});

async function upstream(tool: string, args: Record<string, unknown>): Promise<string[]> {
  made.length = 0;
  recording = true;
  try {
    const r = await call(t.c.client, tool, args);
    expect(r.isError, r.text).toBe(false);
  } finally {
    recording = false;
  }
  return [...made];
}

describe('round trips per call', () => {
  it('file_read of a text file: 1; file_write: 1; file_edit: 3; exec_run: no session listing, at most 3', async () => {
    await writeFile(t.sim.containerPath(t.sim.containerId, '/home/user/rt.txt'), 'one\ntwo\nthree\n');
    await call(t.c.client, 'file_read', { path: '/home/user/rt.txt' }); // warm: container and kit URL cached
    await call(t.c.client, 'exec_run', { command: 'true' });
    expect(await upstream('file_read', { path: '/home/user/rt.txt' })).toEqual(['GET files/api/v1/files/…']);
    expect(await upstream('file_read', { path: '/home/user/rt.txt', offset: 2, limit: 1 })).toEqual(['GET files/api/v1/files/…']);
    expect(await upstream('file_write', { path: '/home/user/rt.txt', content: 'a = 1\n' })).toEqual(['PUT files/api/v1/files/…']);
    expect(await upstream('file_edit', { path: '/home/user/rt.txt', old_string: 'a = 1', new_string: 'a = 2' })).toEqual([
      'GET files/api/v1/files/…',
      'GET files/api/v1/files/…?',
      'PUT files/api/v1/files/…',
    ]);
    const exec = await upstream('exec_run', { command: 'true' });
    expect(exec[0]).toBe('POST terminal/api/v1/terminal/execute?');
    expect(exec.filter((q) => q.includes('sessions'))).toEqual([]);
    expect(exec.length).toBeLessThanOrEqual(3);
  });

  it('a file over 1 MB is read by line range; a .json file reads as text; a directory (even x.json) is refused', async () => {
    const host = (p: string) => t.sim.containerPath(t.sim.containerId, p);
    await writeFile(host('/home/user/big.log'), Array.from({ length: 40_000 }, (_, i) => `line ${i + 1} ${'x'.repeat(40)}`).join('\n'));
    const big = await upstream('file_read', { path: '/home/user/big.log', offset: 39_999 });
    expect(big).toEqual(['GET files/api/v1/files/…', 'GET files/api/v1/files/…?', 'GET files/api/v1/files/stat/…']);
    const r = await call(t.c.client, 'file_read', { path: '/home/user/big.log', offset: 39_999 });
    expect(r.text).toMatch(/^ 39999\tline 39999 x+\n 40000\tline 40000/);
    // A huge range is read only as far as a reply can show (1 MB of lines), and says where to go on.
    const wide = await call(t.c.client, 'file_read', { path: '/home/user/big.log', offset: 2, limit: 100_000 });
    expect(wide.text).toMatch(/^     2\tline 2 x+\n/);
    expect(wide.text).toMatch(/\.\.\. lines 2-\d+ shown(?: of 40000)?; continue with offset=\d+$/);
    await writeFile(host('/home/user/conf.json'), '{"paths": [1], "a": 1}\n');
    expect((await call(t.c.client, 'file_read', { path: '/home/user/conf.json' })).text).toContain('1\t{"paths": [1], "a": 1}');
    await mkdir(host('/home/user/dir.json'), { recursive: true });
    const dir = await call(t.c.client, 'file_read', { path: '/home/user/dir.json' });
    expect(dir.isError).toBe(true);
    expect(dir.text).toMatch(/is a directory/);
    // Under a reserved first segment the root route answers directories in HTML: asked with a stat first.
    await mkdir(host('/copy/sub'), { recursive: true });
    await writeFile(host('/copy/f.txt'), 'reserved\n');
    expect((await call(t.c.client, 'file_read', { path: '/copy/sub' })).text).toMatch(/is a directory/);
    expect((await call(t.c.client, 'file_read', { path: '/copy/f.txt' })).text).toMatch(/1\treserved/);
  });

  it('a command queued behind another session is taken back and started under another id', async () => {
    const h = new Hoody({ apiUrl: t.sim.apiUrl }, t.sim.token);
    const id = t.sim.containerId;
    const term = Object.create(h.terminal) as TerminalKit;
    const started: number[] = [];
    const aborted: string[] = [];
    term.start = async (c, opts, s) => {
      started.push(opts.terminalId);
      if (started.length === 1) return { commandId: String(opts.commandId), status: 'queued', exitCode: null, output: '' };
      return h.terminal.start(c, opts, s);
    };
    term.abort = async (_c, cid) => {
      aborted.push(cid);
      return { commandId: cid, status: 'aborted', exitCode: null, output: '' };
    };
    const jobs = new Jobs(term);
    const job = await jobs.start(id, { command: 'echo moved' });
    expect(aborted).toHaveLength(1);
    expect(started).toHaveLength(2);
    expect(started[1]).not.toBe(started[0]);
    expect(job.job.startsWith(`${started[1]}-`)).toBe(true);
    const done = await jobs.status(id, job.job, { until: Date.now() + 5000 });
    expect(done.output).toContain('moved');
  });

  it('the first /result read after a start comes one poll interval (20 ms) after the start answer', async () => {
    const h = new Hoody({ apiUrl: t.sim.apiUrl }, t.sim.token);
    const term = Object.create(h.terminal) as TerminalKit;
    let answered = 0;
    const reads: number[] = [];
    term.start = async (c, opts, s) => {
      const r = await h.terminal.start(c, opts, s);
      answered = performance.now();
      return r;
    };
    term.resultOrUndefined = async (c, cid, s) => {
      reads.push(performance.now() - answered);
      return h.terminal.resultOrUndefined(c, cid, s);
    };
    const r = await new Jobs(term).run(t.sim.containerId, { command: 'true' }, { until: Date.now() + 5000 });
    expect(r.done).toBe(true);
    // Not at once (a read per ms would hammer the kit); timers fire on whole ms of a loop clock that may lag, hence the margin.
    expect(reads[0]).toBeGreaterThanOrEqual(15);
  });
});
