/**
 * The core's services against the simulator in process: safe edits (file-edits.ts), jobs
 * (jobs.ts) and watches (watches.ts).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HoodyError } from '../../src/core/errors.js';
import { FileEdits } from '../../src/core/file-edits.js';
import { Hoody } from '../../src/core/hoody.js';
import type { FilesKit } from '../../src/core/kits/files.js';
import { Lru } from '../../src/core/lru.js';
import { startSim, type Sim } from '../../src/sim/index.js';

let sim: Sim;
let h: Hoody;
let id: string;
const host = (p: string) => sim.containerPath(sim.containerId, p);

beforeAll(async () => {
  sim = await startSim({});
  h = new Hoody({ apiUrl: sim.apiUrl }, sim.token);
  id = sim.containerId;
});
afterAll(() => sim.close());

/** The HoodyError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<HoodyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HoodyError);
  return err as HoodyError;
}

describe('safe edits', () => {
  const path = '/home/user/edit.txt';
  const put = (text: string) => writeFile(host(path), text);

  it('refuses a missing old_string, writing nothing', async () => {
    await put('alpha\nbeta\n');
    const err = await failure(h.edits.replace(id, path, 'gamma', 'delta', false));
    expect(err).toMatchObject({ kind: 'conflict', next: { code: 'copy_exact', path } });
    expect(err.message).toMatch(/not found .*nothing written/);
    expect(await readFile(host(path), 'utf8')).toBe('alpha\nbeta\n');
  });

  it('refuses an ambiguous old_string, and replaces every one with replace_all', async () => {
    await put('x = 1\ny = 1\n');
    const err = await failure(h.edits.replace(id, path, '= 1', '= 2', false));
    expect(err).toMatchObject({ kind: 'conflict', next: { code: 'widen_match', count: 2 } });
    expect(await readFile(host(path), 'utf8')).toBe('x = 1\ny = 1\n');
    const r = await h.edits.replace(id, path, '= 1', '= 2', true);
    expect(r.replacements).toBe(2);
    expect(await readFile(host(path), 'utf8')).toBe('x = 2\ny = 2\n');
  });

  it('refuses an edit of a file that changed since it was last read here', async () => {
    await put('first\n');
    await h.edits.mark(id, path);
    await put('first\nsecond, written by another hand\n');
    const err = await failure(h.edits.replace(id, path, 'first', '1st', false));
    expect(err).toMatchObject({ kind: 'conflict', next: { code: 'reread_file', path } });
    expect(err.message).toMatch(/changed since you last read it/);
    expect(await readFile(host(path), 'utf8')).toBe('first\nsecond, written by another hand\n');
    await h.edits.mark(id, path); // read again: now the edit goes through
    await h.edits.replace(id, path, 'first', '1st', false);
    expect(await readFile(host(path), 'utf8')).toBe('1st\nsecond, written by another hand\n');
  });

  it('refuses an edit of a file that changed while it was being edited', async () => {
    await put('keep me\n');
    // A files client whose read is followed at once by someone else's write.
    const files = Object.create(h.files) as FilesKit;
    files.fetchFile = async (c, p, max, s) => {
      const got = await h.files.fetchFile(c, p, max, s);
      await put('keep me, changed meanwhile\n');
      return got;
    };
    const edits = new FileEdits(files, new Lru(10));
    const err = await failure(edits.replace(id, path, 'keep', 'lose', false));
    expect(err).toMatchObject({ kind: 'conflict', next: { code: 'reread_file', path } });
    expect(err.message).toMatch(/changed while it was being edited/);
    expect(await readFile(host(path), 'utf8')).toBe('keep me, changed meanwhile\n');
  });
});

describe('jobs', () => {
  it('rejects a malformed handle with a next step', async () => {
    const err = await failure(h.jobs.status(id, 'not-a-job'));
    expect(err).toMatchObject({ kind: 'bad_request', next: { code: 'pass_job' } });
  });

  it('shows each piece of output once: run, then status, then nothing new', async () => {
    const first = await h.jobs.run(id, { command: 'echo one; sleep 1; echo two' }, { until: Date.now() + 600 });
    expect(first.done).toBe(false);
    expect(first.fresh).toContain('one');
    const second = await h.jobs.status(id, first.job, { until: Date.now() + 10_000 });
    expect(second.done).toBe(true);
    expect(second.fresh).not.toContain('one');
    expect(first.fresh + second.fresh).toBe(second.output);
    const third = await h.jobs.status(id, first.job);
    expect(third.fresh).toBe('');
    expect(third.output).toBe(second.output);
  });

  it('keeps a finished result after the kit forgets it', async () => {
    const done = await h.jobs.run(id, { command: 'echo kept' }, { until: Date.now() + 10_000 });
    expect(done.done).toBe(true);
    sim.faults.add({ target: 'terminal', method: 'GET', path: '/api/v1/terminal/result', status: 404, body: 'json', times: 5 });
    try {
      const again = await h.jobs.status(id, done.job);
      expect(again).toMatchObject({ done: true, exitCode: 0 });
      expect(again.output).toContain('kept');
    } finally {
      sim.faults.clear();
    }
  });

  it('cancel stops a running command and returns its final state', async () => {
    const before = sim.executions.length;
    const running = await h.jobs.run(id, { command: 'echo started; sleep 30' }, { until: Date.now() + 500 });
    expect(running.done).toBe(false);
    const t0 = Date.now();
    const s = await h.jobs.cancel(id, running.job, true);
    expect(s.done).toBe(true);
    expect(s.fresh).not.toContain('started'); // already shown by run
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(sim.executions[before]?.endedAt).toBeDefined();
  });
});

describe('watches', () => {
  const dir = '/home/user/watched';

  it('a cursor continues strictly after the last event', async () => {
    await mkdir(host(dir), { recursive: true });
    const armed = await h.watches.wait(id, { paths: [dir], until: Date.now() });
    expect(armed.events).toEqual([]);
    await writeFile(host(`${dir}/a.txt`), 'a');
    const first = await h.watches.wait(id, { since: armed.cursor, until: Date.now() + 5_000 });
    expect(first.events.map((e) => e.path)).toContain(`${dir}/a.txt`);
    await new Promise((r) => setTimeout(r, 300)); // let the kit's coalescing settle
    await writeFile(host(`${dir}/b.txt`), 'b');
    const second = await h.watches.wait(id, { since: first.cursor, until: Date.now() + 5_000 });
    expect(second.events.length).toBeGreaterThan(0);
    expect(new Set(second.events.map((e) => e.path))).toEqual(new Set([`${dir}/b.txt`]));
    expect(second.events[0]!.id).toBeGreaterThan(first.events.at(-1)!.id);
  });

  it('a lost cursor says so and what to do', async () => {
    const err = await failure(h.watches.wait(id, { since: '00000000-0000-4000-8000-000000000000@5', until: Date.now() + 1_000 }));
    expect(err).toMatchObject({ kind: 'not_found', next: { code: 'drop_cursor' } });
    expect(err.message).toBe('the watcher behind this cursor is gone');
    const bad = await failure(h.watches.wait(id, { since: 'garbage', until: Date.now() }));
    expect(bad).toMatchObject({ kind: 'bad_request', next: { code: 'pass_cursor' } });
  });
});
