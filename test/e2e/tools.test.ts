/**
 * Every tool of the containers, exec and files toolsets, over stdio and over HTTP, against the
 * simulator: success paths checked against the simulator's state, and bad input answered with isError.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, useSimAndHttp, useSimAndStdio } from '../helpers/harness.js';

const byName = { args: (sim: { containerName: string }) => ['--container', sim.containerName] };

describe.each(['stdio', 'http'] as const)('%s', (transport) => {
  const t = transport === 'stdio' ? useSimAndStdio(byName) : useSimAndHttp(byName);
  const host = (p: string) => t.sim.containerPath(t.sim.containerId, p);
  async function put(p: string, content: string) {
    await mkdir(dirname(host(p)), { recursive: true });
    await writeFile(host(p), content);
  }

  describe('containers toolset', () => {
    it('project_list lists the project', async () => {
      const r = await call(t.c.client, 'project_list');
      expect(r.isError).toBe(false);
      expect(r.text).toContain(t.sim.projectId);
      expect(r.structured).toMatchObject({ projects: [{ id: t.sim.projectId }] });
    });

    it('container_list lists containers with status and filters by status', async () => {
      const r = await call(t.c.client, 'container_list');
      expect(r.text).toContain(t.sim.containerId);
      expect(r.text).toContain('running');
      const none = await call(t.c.client, 'container_list', { status: 'stopped' });
      expect(none.text).toBe('no containers');
    });

    it('container_get shows details and links built from server_name, never subserver_name', async () => {
      const r = await call(t.c.client, 'container_get', { container: t.sim.containerId });
      expect(r.isError).toBe(false);
      expect(r.text).toContain(`${t.sim.containerName} (${t.sim.containerId}) — running`);
      const links = (r.structured as { links: Record<string, string> }).links;
      expect(links.files).toBe(`${t.sim.kitUrl(t.sim.containerId, 'files')}/`);
      expect(links.desktop).toContain(`-desktop-1.${t.sim.serverName}.containers.localhost`);
    });

    it('container_get by an unknown name or id says what to do', async () => {
      const r = await call(t.c.client, 'container_get', { container: 'no-such-box' });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/no container named or with id "no-such-box" — call container_list/);
      const r2 = await call(t.c.client, 'container_get', { container: 'ffffffffffffffffffffffff' });
      expect(r2.isError).toBe(true);
      expect(r2.text).toMatch(/not found/i);
    });

    it('container_create waits for running + kits, reporting progress; then action, snapshot, delete', async () => {
      const progress: string[] = [];
      const r = await call(t.c.client, 'container_create', { name: 'e2e-box' }, { onprogress: (p) => progress.push(p.message ?? '') });
      expect(r.isError, r.text).toBe(false);
      expect(r.text).toMatch(/created e2e-box \([0-9a-f]{24}\), running, kits answering/);
      expect(progress.some((m) => m.includes('creating'))).toBe(true);
      const id = (r.structured as { id: string }).id;

      const dup = await call(t.c.client, 'container_create', { name: 'e2e-box' });
      expect(dup.isError).toBe(true);
      expect(dup.text).toMatch(/in use|exists/i);

      const stop = await call(t.c.client, 'container_action', { container: 'e2e-box', action: 'stop' });
      expect(stop.text).toMatch(/e2e-box: stopped/);
      const again = await call(t.c.client, 'container_action', { container: 'e2e-box', action: 'stop' });
      expect(again.isError).toBe(false);
      expect(again.text).toMatch(/already stopped/);

      // A kit call on a stopped container says so and what to do.
      const ls = await call(t.c.client, 'file_list', { container: id, path: '/home/user' });
      expect(ls.isError).toBe(true);
      expect(ls.text).toMatch(/container e2e-box is stopped — call container_action with action "start" first/);

      const start = await call(t.c.client, 'container_action', { container: id, action: 'start' });
      expect(start.text).toMatch(/e2e-box: running/);

      await call(t.c.client, 'file_write', { container: id, path: '/home/user/keep.txt', content: 'v1' });
      const snap = await call(t.c.client, 'container_snapshot', { container: id, action: 'create', alias: 'before' });
      expect(snap.isError, snap.text).toBe(false);
      const name = ((snap.structured as { snapshot: { name: string } }).snapshot).name;
      await call(t.c.client, 'file_write', { container: id, path: '/home/user/keep.txt', content: 'v2' });
      const list = await call(t.c.client, 'container_snapshot', { container: id, action: 'list' });
      expect(list.text).toContain(name);
      const restore = await call(t.c.client, 'container_snapshot', { container: id, action: 'restore', snapshot: name });
      expect(restore.isError, restore.text).toBe(false);
      expect(readFileSync(t.sim.containerPath(id, '/home/user/keep.txt'), 'utf8')).toBe('v1');
      const bad = await call(t.c.client, 'container_snapshot', { container: id, action: 'restore' });
      expect(bad.isError).toBe(true);
      expect(bad.text).toMatch(/restore needs `snapshot`/);

      const del = await call(t.c.client, 'container_delete', { container: id });
      expect(del.text).toBe(`deleted e2e-box (${id})`);
      const gone = await call(t.c.client, 'container_list');
      expect(gone.text).not.toContain(id);
    });

    it('rejects bad arguments with isError', async () => {
      const r = await call(t.c.client, 'container_action', { container: t.sim.containerId, action: 'explode' });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/action/);
      const r2 = await call(t.c.client, 'container_create', { name: 'a b' });
      expect(r2.isError).toBe(true);
    });
  });

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
      const r = await call(t.c.client, 'exec_run', { command: 'echo ready; sleep 60', wait_s: 0.5 });
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

  describe('files toolset', () => {
    it('file_write creates parents; file_read numbers lines like cat -n', async () => {
      const w = await call(t.c.client, 'file_write', { path: '/home/user/new/dir/a.txt', content: 'one\ntwo\nthree\n' });
      expect(w.isError, w.text).toBe(false);
      expect(readFileSync(host('/home/user/new/dir/a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
      const r = await call(t.c.client, 'file_read', { path: '~/new/dir/a.txt' });
      expect(r.text).toBe('     1\tone\n     2\ttwo\n     3\tthree');
      const part = await call(t.c.client, 'file_read', { path: '/home/user/new/dir/a.txt', offset: 2, limit: 1 });
      expect(part.text).toMatch(/^     2\ttwo\n… lines 2-2 shown/);
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
      const link = r.content.find((x) => x.type === 'resource_link') as { uri: string };
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

    it.skipIf(transport === 'http')('file_transfer streams both ways (stdio only: refused when hosted)', async () => {
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

    it('completes container names and ids in resource templates', async () => {
      const r = await t.c.client.complete({ ref: { type: 'ref/resource', uri: 'hoody://containers/{container}' }, argument: { name: 'container', value: t.sim.containerName.slice(0, 3) } });
      expect(r.completion.values).toContain(t.sim.containerName);
      const none = await t.c.client.complete({ ref: { type: 'ref/resource', uri: 'hoody://containers/{container}' }, argument: { name: 'container', value: 'zzz-no' } });
      expect(none.completion.values).toEqual([]);
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
});
