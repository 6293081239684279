/**
 * The files toolset in-process: reads, writes and edits checked against the files on disk in the
 * simulator's sandbox; safe edits under concurrent change; bad input answered with isError.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, connectInproc, useInproc } from '../helpers/inproc.js';
import { afterSimRequest } from '../helpers/sim-api.js';
import { waitFor } from '../helpers/shared.js';
import { everyToolChecks } from './catalogue.js';

const t = useInproc({ argsFor: (sim) => ['--container', sim.containerName] });
const host = (p: string) => t.sim.containerPath(t.sim.containerId, p);
async function put(p: string, content: string) {
  await mkdir(dirname(host(p)), { recursive: true });
  await writeFile(host(p), content);
}

describe('files toolset', () => {
  it('file_write creates parents; file_read numbers lines like cat -n', async () => {
    const w = await call(t.c.client, 'file_write', { path: '/home/user/new/dir/a.txt', content: 'one\ntwo\nthree\n' });
    expect(w.isError, w.text).toBe(false);
    expect(readFileSync(host('/home/user/new/dir/a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
    const r = await call(t.c.client, 'file_read', { path: '~/new/dir/a.txt' });
    expect(r.text).toBe('     1\tone\n     2\ttwo\n     3\tthree');
    const part = await call(t.c.client, 'file_read', { path: '/home/user/new/dir/a.txt', offset: 2, limit: 1 });
    expect(part.text).toMatch(/^     2\ttwo\n\.\.\. lines 2-2 shown/);
  });

  it('file_write appends and takes base64', async () => {
    await call(t.c.client, 'file_write', { path: '/home/user/ap.txt', content: 'a' });
    await call(t.c.client, 'file_write', { path: '/home/user/ap.txt', content: 'b', append: true });
    await call(t.c.client, 'file_write', { path: '/home/user/bin.dat', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' });
    expect(readFileSync(host('/home/user/ap.txt'), 'utf8')).toBe('ab');
    expect([...readFileSync(host('/home/user/bin.dat'))]).toEqual([0, 1, 2, 255]);
    const bad = await call(t.c.client, 'file_write', { path: '/home/user/x', content: '!!!', encoding: 'base64' });
    expect(bad.isError).toBe(true);
  });

  it('resource links encode awkward paths and read back', async () => {
    await put('/home/user/odd dir/ü#?.bin', '\0binary\0');
    const r = await call(t.c.client, 'file_read', { path: '/home/user/odd dir/ü#?.bin' });
    const link = r.content.find((x) => x.type === 'resource_link') as unknown as { uri: string };
    expect(link.uri).toBe(`hoody://containers/${t.sim.containerId}/files/home/user/odd%20dir/%C3%BC%23%3F.bin`);
    const back = await t.c.client.readResource({ uri: link.uri });
    expect(Buffer.from((back.contents[0] as { blob: string }).blob, 'base64').toString()).toBe('\0binary\0');
  });

  it('file_read: binary → resource link, directory → hint, missing → hint, relative → hint', async () => {
    const b = await call(t.c.client, 'file_read', { path: '/home/user/bin.dat' });
    expect(b.text).toMatch(/binary/);
    expect(b.content.some((x) => x.type === 'resource_link')).toBe(true);
    expect((await call(t.c.client, 'file_read', { path: '/home/user' })).text).toMatch(/is a directory — use file_list/);
    const m = await call(t.c.client, 'file_read', { path: '/home/user/missing.txt' });
    expect(m.isError).toBe(true);
    expect(m.text).toMatch(/does not exist — file_list/);
    const rel = await call(t.c.client, 'file_read', { path: 'x.txt' });
    expect(rel.isError).toBe(true);
    expect(rel.text).toMatch(/not absolute/);
  });

  it('file_read returns images as image content', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201a0e1ee1a0000000049454e44ae426082', 'hex');
    await mkdir(dirname(host('/home/user/pic.png')), { recursive: true });
    writeFileSync(host('/home/user/pic.png'), png);
    const r = await call(t.c.client, 'file_read', { path: '/home/user/pic.png' });
    expect(r.content[0]).toMatchObject({ type: 'image', mimeType: 'image/png', data: png.toString('base64') });
  });

  it('file_read of a big file fits the budget and says how to continue', async () => {
    await put('/home/user/big.txt', Array.from({ length: 50_000 }, (_, i) => `row ${i + 1} ${'x'.repeat(40)}`).join('\n'));
    const r = await call(t.c.client, 'file_read', { path: '/home/user/big.txt' });
    expect(r.text.length).toBeLessThanOrEqual(32_000);
    expect(r.text).toMatch(/continue with offset=\d+/);
  });

  it('file_edit replaces exactly, refuses ambiguous, missing and stale edits', async () => {
    await call(t.c.client, 'file_write', { path: '/home/user/e.py', content: 'a = 1\nb = 1\nprint(a)\n' });
    const amb = await call(t.c.client, 'file_edit', { path: '/home/user/e.py', old_string: '= 1', new_string: '= 2' });
    expect(amb.isError).toBe(true);
    expect(amb.text).toMatch(/occurs 2 times/);
    const miss = await call(t.c.client, 'file_edit', { path: '/home/user/e.py', old_string: 'zzz', new_string: 'y' });
    expect(miss.text).toMatch(/not found/);
    const one = await call(t.c.client, 'file_edit', { path: '/home/user/e.py', old_string: 'b = 1', new_string: 'b = 42' });
    expect(one.isError, one.text).toBe(false);
    expect(one.text).toContain('- b = 1\n+ b = 42');
    expect(readFileSync(host('/home/user/e.py'), 'utf8')).toBe('a = 1\nb = 42\nprint(a)\n');
    const all = await call(t.c.client, 'file_edit', { path: '/home/user/e.py', old_string: 'a', new_string: 'x', replace_all: true });
    expect(all.text).toMatch(/2 replacements/);

    // Someone else changes the file after our last read: the edit is refused, nothing written.
    await call(t.c.client, 'file_read', { path: '/home/user/e.py' });
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(host('/home/user/e.py'), 'changed elsewhere = 1\n');
    const stale = await call(t.c.client, 'file_edit', { path: '/home/user/e.py', old_string: '= 1', new_string: '= 9' });
    expect(stale.isError).toBe(true);
    expect(stale.text).toMatch(/changed since you last read it/);
    expect(readFileSync(host('/home/user/e.py'), 'utf8')).toBe('changed elsewhere = 1\n');
  });

  it('file_list lists, filters, recurses', async () => {
    await put('/home/user/tree/a.ts', '1');
    await put('/home/user/tree/b.js', '2');
    await put('/home/user/tree/sub/c.ts', '3');
    const l = await call(t.c.client, 'file_list', { path: '/home/user/tree' });
    expect(l.text).toMatch(/d\s+sub\/\nf\s+1 B\s+a\.ts\nf\s+1 B\s+b\.js/);
    const f = await call(t.c.client, 'file_list', { path: '/home/user/tree', pattern: '*.ts' });
    expect(f.text).toContain('a.ts');
    expect(f.text).not.toContain('b.js');
    const rec = await call(t.c.client, 'file_list', { path: '/home/user/tree', pattern: '*.ts', recursive: true });
    expect(rec.text).toContain('sub/c.ts');
    const missing = await call(t.c.client, 'file_list', { path: '/home/user/nothing-here' });
    expect(missing.isError).toBe(true);
  });

  it('file_search finds matches with line numbers', async () => {
    await put('/home/user/src/app.py', 'import os\ndef main():\n    return TODO\n');
    const r = await call(t.c.client, 'file_search', { pattern: 'todo', path: '/home/user/src', ignore_case: true });
    expect(r.text).toMatch(/1 match\n\/home\/user\/src\/app\.py:3:     return TODO/);
    const none = await call(t.c.client, 'file_search', { pattern: 'nomatchzzz', path: '/home/user/src' });
    expect(none.text).toMatch(/no matches/);
  });

  it('file_manage moves, copies, makes directories', async () => {
    await put('/home/user/m/one.txt', 'x');
    expect((await call(t.c.client, 'file_manage', { op: 'copy', path: '/home/user/m/one.txt', to: '/home/user/m/two.txt' })).isError).toBe(false);
    expect((await call(t.c.client, 'file_manage', { op: 'move', path: '/home/user/m/one.txt', to: '/home/user/m/three.txt' })).isError).toBe(false);
    expect((await call(t.c.client, 'file_manage', { op: 'mkdir', path: '/home/user/m/deep/er' })).isError).toBe(false);
    expect(existsSync(host('/home/user/m/one.txt'))).toBe(false);
    expect(readFileSync(host('/home/user/m/two.txt'), 'utf8')).toBe('x');
    expect(readFileSync(host('/home/user/m/three.txt'), 'utf8')).toBe('x');
    expect(existsSync(host('/home/user/m/deep/er'))).toBe(true);
    const noTo = await call(t.c.client, 'file_manage', { op: 'copy', path: '/home/user/m/two.txt' });
    expect(noTo.text).toMatch(/needs `to`/);
    const exists = await call(t.c.client, 'file_manage', { op: 'copy', path: '/home/user/m/two.txt', to: '/home/user/m/three.txt' });
    expect(exists.isError).toBe(true);
  });

  it('file_delete deletes files; directories need recursive', async () => {
    await put('/home/user/d/x/y.txt', 'y');
    const dir = await call(t.c.client, 'file_delete', { path: '/home/user/d' });
    expect(dir.isError).toBe(true);
    expect(dir.text).toMatch(/recursive=true/);
    expect((await call(t.c.client, 'file_delete', { path: '/home/user/d/x/y.txt' })).isError).toBe(false);
    expect(existsSync(host('/home/user/d/x/y.txt'))).toBe(false);
    expect((await call(t.c.client, 'file_delete', { path: '/home/user/d', recursive: true })).isError).toBe(false);
    expect(existsSync(host('/home/user/d'))).toBe(false);
    expect((await call(t.c.client, 'file_delete', { path: '/' })).text).toMatch(/refusing/);
  });

  it('file_transfer streams both ways (stdio only: refused when hosted)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hoody-xfer-'));
    const local = join(dir, 'up.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(local, data);
    const up = await call(t.c.client, 'file_transfer', { direction: 'upload', local_path: local, remote_path: '/home/user/up.bin' });
    expect(up.isError, up.text).toBe(false);
    expect(readFileSync(host('/home/user/up.bin')).equals(data)).toBe(true);
    const back = join(dir, 'down.bin');
    const down = await call(t.c.client, 'file_transfer', { direction: 'download', local_path: back, remote_path: '/home/user/up.bin' });
    expect(down.isError, down.text).toBe(false);
    expect(readFileSync(back).equals(data)).toBe(true);
    const rel = await call(t.c.client, 'file_transfer', { direction: 'upload', local_path: 'rel.bin', remote_path: '/home/user/x' });
    expect(rel.text).toMatch(/not absolute/);
  });

  it('reads files as resources', async () => {
    await put('/home/user/res.txt', 'resource body');
    const r = await t.c.client.readResource({ uri: `hoody://containers/${t.sim.containerName}/files/home/user/res.txt` });
    expect((r.contents[0] as { text: string }).text).toBe('resource body');
    const templates = await t.c.client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toEqual(
      expect.arrayContaining(['hoody://containers/{container}/files/{+path}', 'hoody://containers/{container}/jobs/{job}']),
    );
  });
});

describe('safe edits and search filters', () => {
  it('file_edit refuses when the file changes between its own read and its write; nothing written', async () => {
    await put('/home/user/race.py', 'x = 1\n');
    const before = t.sim.requests.length;
    await call(t.c.client, 'file_read', { path: '/home/user/race.py' });
    // The read's own GET is logged when its answer has finished, which may be just after the call
    // returns: wait for it, so only file_edit's GET below triggers the change.
    await waitFor('file_read logged', () => t.sim.requests.slice(before).some((q) => q.host === 'files' && q.path.endsWith('/home/user/race.py')));
    // Another writer changes the file right after file_edit has downloaded it (same size, so
    // only the content check before the write can tell).
    const undo = afterSimRequest(
      t.sim,
      (q) => q.host === 'files' && q.method === 'GET' && q.path.endsWith('/home/user/race.py') && !q.path.includes('/stat') && q.query === '',
      () => writeFileSync(host('/home/user/race.py'), 'y = 1\n'),
    );
    try {
      const r = await call(t.c.client, 'file_edit', { path: '/home/user/race.py', old_string: 'x = 1', new_string: 'x = 2' });
      expect(r.isError, r.text).toBe(true);
      expect(r.text).toMatch(/changed while it was being edited; nothing written — file_read it again/);
    } finally {
      undo();
    }
    expect(readFileSync(host('/home/user/race.py'), 'utf8')).toBe('y = 1\n');
  });

  it('file_search with glob searches only the files it names', async () => {
    await put('/home/user/g/a.py', 'needle in python\n');
    await put('/home/user/g/b.txt', 'needle in text\n');
    await put('/home/user/g/sub/c.py', 'no\nneedle deeper\n');
    const r = await call(t.c.client, 'file_search', { pattern: 'needle', path: '/home/user/g', glob: '*.py' });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toContain('/home/user/g/a.py:1: needle in python');
    expect(r.text).toContain('/home/user/g/sub/c.py:2: needle deeper');
    expect(r.text).toMatch(/^2 matches\n/);
    expect(r.text).not.toContain('b.txt');
    const all = await call(t.c.client, 'file_search', { pattern: 'needle', path: '/home/user/g' });
    expect(all.text).toContain('/home/user/g/b.txt:1: needle in text');
  });

  it('file_transfer is refused when hosted, before anything else', async () => {
    const remote = await connectInproc(t.sim, { remote: true });
    try {
      const r = await call(remote.client, 'file_transfer', { container: 'ghost-box', direction: 'download', local_path: '/tmp/never-hoody', remote_path: '/etc/hostname' });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/not available on a remote server/);
    } finally {
      await remote.close();
    }
  });
});

everyToolChecks(t, 'files');
