import { readFile, symlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../src/sim/index.js';
import { kit } from './helpers.js';

let sim: Sim;
let F: ReturnType<typeof kit>;
const A = '/api/v1/files';

beforeAll(async () => {
  sim = await startSim({});
  F = kit(sim, 'files');
});
afterAll(async () => {
  await sim.close();
});

describe('read and write', () => {
  it('PUT creates the file (and parents) on disk; GET streams the bytes back', async () => {
    const put = await F('PUT', `${A}/home/user/docs/a.txt`, 'line1\nline2\nline3\n', { 'Content-Type': 'application/octet-stream' });
    expect(put.json).toEqual({ path: '/home/user/docs/a.txt', size: 18, success: true });
    expect(await readFile(sim.containerPath(sim.containerId, '/home/user/docs/a.txt'), 'utf8')).toBe('line1\nline2\nline3\n');
    const get = await F('GET', `${A}/home/user/docs/a.txt`);
    expect(get.text).toBe('line1\nline2\nline3\n');
    expect(get.headers['content-length']).toBe('18');
    const bin = Buffer.from([0, 1, 2, 255, 254]);
    await F('PUT', `${A}/home/user/b.bin`, bin);
    const back = await F('GET', `${A}/home/user/b.bin?base64`);
    expect(back.text).toBe(bin.toString('base64'));
  });

  it('reads line ranges with X-Line-Range / X-Total-Lines', async () => {
    await F('PUT', `${A}/home/user/lines.txt`, Array.from({ length: 10 }, (_, i) => `L${i + 1}`).join('\n') + '\n');
    const mid = await F('GET', `${A}/home/user/lines.txt?lines=2-3`);
    expect(mid.text).toBe('L2\nL3\n');
    expect(mid.headers['x-line-range']).toBe('2-3');
    expect(mid.headers['x-total-lines']).toBeUndefined();
    const tail = await F('GET', `${A}/home/user/lines.txt?lines=-2`);
    expect(tail.text).toBe('L9\nL10\n');
    expect(tail.headers['x-total-lines']).toBe('10');
    expect((await F('GET', `${A}/home/user/lines.txt?lines=9-`)).text).toBe('L9\nL10\n');
    expect((await F('GET', `${A}/home/user/lines.txt?lines=4`)).text).toBe('L4\n');
    expect((await F('GET', `${A}/home/user/lines.txt?lines=x`)).status).toBe(400);
  });

  it('stat, hash and realpath', async () => {
    const st = await F('GET', `${A}/stat/home/user/docs/a.txt`);
    expect(st.json).toMatchObject({ name: 'a.txt', path: '/home/user/docs/a.txt', path_type: 'File', size: 18, is_symlink: false });
    expect(typeof st.json.mtime).toBe('number');
    expect((await F('GET', `${A}/home/user/docs/a.txt?stat`)).json.size).toBe(18);
    expect((await F('GET', `${A}/stat/home/user/nope`)).json).toEqual({ error: 'File not found', success: false });
    const hash = await F('GET', `${A}/home/user/docs/a.txt?hash`);
    expect(hash.text).toMatch(/^[0-9a-f]{64}$/);
    expect((await F('GET', `${A}/realpath/home/user/docs/a.txt`)).json).toEqual({ path: '/home/user/docs/a.txt', real_path: '/home/user/docs/a.txt' });
  });

  it('lists directories under `paths` (default) or `entries` (quirk)', async () => {
    const l = await F('GET', `${A}/home/user/docs`);
    expect(l.json).toMatchObject({ kind: 'Index', href: '/home/user/docs', dir_exists: true });
    expect(l.json.paths).toEqual([expect.objectContaining({ name: 'a.txt', path_type: 'File', size: 18 })]);
    sim.quirks.listing = 'entries';
    const e = await F('GET', `${A}/home/user/docs`);
    expect(e.json.paths).toBeUndefined();
    expect(e.json.entries[0].name).toBe('a.txt');
    sim.quirks.listing = 'paths';
    const root = await F('GET', '/home/user/docs?json');
    expect(root.json.paths[0].name).toBe('a.txt');
  });

  it('appends three ways: ?append, /append (creates parents), root PATCH X-Update-Range → 204', async () => {
    expect((await F('PUT', `${A}/home/user/log.txt?append`, 'a')).json).toEqual({ new_size: 1, path: '/home/user/log.txt', success: true });
    expect((await F('PUT', `${A}/append/home/user/log.txt`, 'b')).json.new_size).toBe(2);
    const patch = await F('PATCH', '/home/user/log.txt', 'c', { 'X-Update-Range': 'append' });
    expect(patch.status).toBe(204);
    expect((await F('GET', `${A}/home/user/log.txt`)).text).toBe('abc');
    const rawPatch = await F('PATCH', `${A}/home/user/log.txt`, 'raw bytes');
    expect(rawPatch.json).toEqual({ error: 'Invalid JSON body', success: false });
    expect((await F('PUT', `${A}/append/home/user/new/deep/log.txt`, 'x')).json.success).toBe(true);
  });

  it('mkdir, copy, move, delete', async () => {
    expect((await F('POST', `${A}/home/user/d1?mkdir`)).json).toEqual({ message: 'Directory created', success: true });
    expect((await F('POST', `${A}/home/user/d2/sub?mkdir=true`)).json.success).toBe(true);
    expect((await F('POST', `${A}/home/user/d1?mkdir`)).status).toBe(409);
    await F('PUT', `${A}/home/user/d1/f.txt`, 'copy me');
    const cp = await F('POST', `${A}/copy/home/user/d1?copy_to=/home/user/d3/copied`);
    expect(cp.json).toEqual({ source: '/home/user/d1', destination: '/home/user/d3/copied', success: true });
    expect((await F('GET', `${A}/home/user/d3/copied/f.txt`)).text).toBe('copy me');
    expect((await F('POST', `${A}/copy/home/user/d1?copy_to=/home/user/d3/copied`)).json).toEqual({ error: 'Destination already exists', success: false });
    expect((await F('POST', `${A}/copy/home/user/d1?copy_to=/home/user/d3/copied&overwrite=true`)).status).toBe(200);
    expect((await F('POST', `${A}/copy/home/user/missing?copy_to=/home/user/x`)).status).toBe(404);
    const mv = await F('POST', `${A}/move/home/user/d1/f.txt?move_to=/home/user/moved.txt`);
    expect(mv.json).toEqual({ source: '/home/user/d1/f.txt', destination: '/home/user/moved.txt', success: true });
    expect((await F('GET', `${A}/stat/home/user/d1/f.txt`)).status).toBe(404);
    expect((await F('POST', `${A}/move/home/user/moved.txt?move_to=/home/user/log.txt`)).status).toBe(409);
    const del = await F('DELETE', `${A}/home/user/d3`);
    expect(del.json).toEqual({ success: true, path: '/home/user/d3' });
    expect((await F('GET', `${A}/stat/home/user/d3`)).status).toBe(404);
    expect((await F('DELETE', `${A}/home/user/d3`)).status).toBe(404);
    // Reserved prefixes are method-scoped: DELETE /stat/… is a literal path [S:6870].
    expect((await F('DELETE', `${A}/stat/x`)).json).toEqual({ error: 'File or directory not found: /stat/x', success: false });
    expect((await F('POST', `${A}/stat/home?mkdir`)).status).toBe(403);
  });

  it('PUT/DELETE answer the reference shapes under quirks.putShape', async () => {
    sim.quirks.putShape = 'reference';
    expect((await F('PUT', `${A}/home/user/r.txt`, 'x')).json).toEqual({ message: 'File uploaded successfully', path: '/home/user/r.txt', size: 1, success: true });
    expect((await F('DELETE', `${A}/home/user/r.txt`)).json).toEqual({ message: 'File deleted successfully', success: true });
    sim.quirks.putShape = 'skill';
  });
});

describe('search', () => {
  it('globs with modified in seconds and truncation', async () => {
    await F('PUT', `${A}/workspace/src/a.ts`, 'const TODO = 1;\n');
    await F('PUT', `${A}/workspace/src/lib/b.ts`, 'export {};\n// todo: later\n');
    await F('PUT', `${A}/workspace/README.md`, '# readme\nTODO write\n');
    await F('PUT', `${A}/workspace/img.bin`, Buffer.from([0, 84, 79, 68, 79]));
    const g = await F('GET', `${A}/glob/workspace?pattern=**/*.ts`);
    expect(g.json.entries.map((e: { name: string }) => e.name).sort()).toEqual(['/workspace/src/a.ts', '/workspace/src/lib/b.ts']);
    expect(g.json.entries[0].modified).toBeLessThan(1e11);
    expect(g.json).toMatchObject({ count: 2, truncated: false, pattern: '**/*.ts', path: '/workspace' });
    const t = await F('GET', `${A}/glob/workspace?pattern=**/*&max_results=1`);
    expect(t.json).toMatchObject({ count: 1, truncated: true });
    expect((await F('GET', `${A}/glob/workspace`)).status).toBe(400);
  });

  it('greps with line numbers, case folding, fixed strings, glob filter; skips binary files', async () => {
    const g = await F('GET', `${A}/grep/workspace?pattern=TODO`);
    expect(g.json.matches.map((m: { path: string; line_number: number }) => `${m.path}:${m.line_number}`).sort()).toEqual(['/workspace/README.md:2', '/workspace/src/a.ts:1']);
    expect(g.json.matches[0]).toHaveProperty('line');
    const ci = await F('GET', `${A}/grep/workspace?pattern=todo&ignore_case=true&glob=*.ts`);
    expect(ci.json.total_matches).toBe(2);
    expect((await F('GET', `${A}/grep/workspace?pattern=T.DO&fixed_string=true`)).json.total_matches).toBe(0);
    expect((await F('GET', `${A}/grep/workspace?pattern=(`)).status).toBe(400);
    const ctx = await F('GET', `${A}/grep/workspace/README.md?pattern=TODO&context=1`);
    expect(ctx.json.matches[0]).toMatchObject({ line_number: 2, context_before: ['# readme'] });
  });
});

describe('sandbox', () => {
  it('reads host paths read-only, refuses writes outside the owned prefixes', async () => {
    expect((await F('GET', `${A}/etc/hostname`)).status).toBe(200);
    expect((await F('PUT', `${A}/etc/evil`, 'x')).json).toEqual({ error: 'Access to /etc/evil is forbidden', success: false });
    expect((await F('DELETE', `${A}/usr/bin`)).status).toBe(403);
    expect((await F('DELETE', `${A}/home/user`)).status).toBe(403);
    expect((await F('GET', `${A}/nonexistent-dir/x`)).json).toEqual({ error: 'File or directory not found: /nonexistent-dir/x', success: false });
  });

  it('never lets traversal or symlinks escape the sandbox', async () => {
    await F('PUT', `${A}/home/user/inside.txt`, 'in');
    const dotdot = await F('PUT', `${A}/home/user/%2e%2e/%2e%2e/%2e%2e/etc/evil2`, 'x');
    expect(dotdot.status).toBe(403);
    // A link to an absolute path means the CONTAINER's path: /root here is the sandbox's /root.
    await symlink('/root', sim.containerPath(sim.containerId, '/home/user/rootlink'));
    await F('PUT', `${A}/home/user/rootlink/secret.txt`, 'mine');
    expect(await readFile(sim.containerPath(sim.containerId, '/root/secret.txt'), 'utf8')).toBe('mine');
    // A relative link climbing out stays inside the container view (clamped at /).
    await symlink('../../../../../../etc', sim.containerPath(sim.containerId, '/home/user/etclink'));
    expect((await F('PUT', `${A}/home/user/etclink/evil3`, 'x')).status).toBe(403);
    expect((await F('GET', `${A}/realpath/home/user/etclink`)).json.real_path).toBe('/etc');
  });

  it('agrees with the terminal: files written by one are read by the other', async () => {
    const T = kit(sim, 'terminal');
    await F('PUT', `${A}/home/user/shared.txt`, 'from files\n');
    const r = await T('POST', '/api/v1/terminal/execute?ephemeral=true', { command: 'cat /home/user/shared.txt; cat shared.txt; echo from-terminal > /tmp/t.txt' });
    if (sim.isolation === 'namespace') expect(r.json.stdout).toBe('from files\r\nfrom files\r\n');
    else expect(r.json.stdout).toContain('from files');
    if (sim.isolation === 'namespace') expect((await F('GET', `${A}/tmp/t.txt`)).text).toBe('from-terminal\n');
  });
});
