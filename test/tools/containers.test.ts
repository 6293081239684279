/**
 * The containers toolset in-process: success paths checked against the simulator's state, the
 * container resources, and bad input answered with isError.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { call, useInproc } from '../helpers/inproc.js';
import { simContainer, simContainers, simStatusLogs } from '../helpers/sim-api.js';
import { everyToolChecks } from './catalogue.js';

const t = useInproc({ argsFor: (sim) => ['--container', sim.containerName] });

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
    expect(del.text).toBe(`deleted e2e-box (${id})\nNot confirmed: this client cannot ask its user, so this ran without asking (a server run with --confirm=always-refuse refuses such calls).`);
    const gone = await call(t.c.client, 'container_list');
    expect(gone.text).not.toContain(id);
  });

  it('container_action restart, pause, resume, force_stop: each reaches its status in the simulator', async () => {
    const created = await call(t.c.client, 'container_create', { name: 'action-box' });
    expect(created.isError, created.text).toBe(false);
    const id = (created.structured as { id: string }).id;
    const status = async () => (await simContainer(t.sim, id)).status;

    // A job running before the restart dies with it: the restart really happened.
    const job = await call(t.c.client, 'exec_run', { container: id, command: 'sleep 60', wait_s: 0.2 });
    expect(job.structured).toMatchObject({ done: false });
    const before = t.sim.executions.length;
    const restart = await call(t.c.client, 'container_action', { container: id, action: 'restart' });
    expect(restart.isError, restart.text).toBe(false);
    expect(restart.text).toMatch(/action-box: running/);
    expect(await status()).toBe('running');
    expect((await simStatusLogs(t.sim, id)).some((l) => l.metadata.command === 'restart')).toBe(true);
    expect(t.sim.executions.find((e) => e.containerId === id && e.command === 'sleep 60')?.endedAt).toBeDefined();
    expect(t.sim.executions.length).toBe(before);

    const pause = await call(t.c.client, 'container_action', { container: id, action: 'pause' });
    expect(pause.text).toMatch(/action-box: paused/);
    expect(await status()).toBe('paused');

    const resume = await call(t.c.client, 'container_action', { container: id, action: 'resume' });
    expect(resume.text).toMatch(/action-box: running/);
    expect(await status()).toBe('running');
    const ran = await call(t.c.client, 'exec_run', { container: id, command: 'echo awake' });
    expect(ran.text).toMatch(/^exit 0[\s\S]*awake/);

    const kill = await call(t.c.client, 'container_action', { container: id, action: 'force_stop' });
    expect(kill.text).toMatch(/action-box: stopped/);
    expect(await status()).toBe('stopped');
    expect((await simStatusLogs(t.sim, id)).some((l) => l.metadata.command === 'force-stop')).toBe(true);

    await call(t.c.client, 'container_delete', { container: id });
  });

  it('rejects bad arguments with isError', async () => {
    const r = await call(t.c.client, 'container_action', { container: t.sim.containerId, action: 'explode' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/action/);
    const r2 = await call(t.c.client, 'container_create', { name: 'a b' });
    expect(r2.isError).toBe(true);
  });
});

describe('container resources', () => {
  it('hoody://containers lists every container as the simulator has them', async () => {
    const r = await t.c.client.readResource({ uri: 'hoody://containers' });
    const listed = JSON.parse((r.contents[0] as { text: string }).text) as { id: string; name: string; status: string; project_id: string; server: string }[];
    const truth = await simContainers(t.sim);
    expect(listed.map((c) => c.id).sort()).toEqual(truth.map((c) => c.id).sort());
    for (const c of truth) {
      expect(listed.find((x) => x.id === c.id)).toMatchObject({ name: c.name, status: c.status, project_id: c.project_id, server: c.server_name });
    }
  });

  it('hoody://containers/{container} reads one container by name or id; an unknown one is an error', async () => {
    const truth = await simContainer(t.sim, t.sim.containerId);
    for (const ref of [t.sim.containerName, t.sim.containerId]) {
      const r = await t.c.client.readResource({ uri: `hoody://containers/${ref}` });
      expect(JSON.parse((r.contents[0] as { text: string }).text)).toMatchObject({
        id: truth.id, name: truth.name, status: truth.status, project_id: truth.project_id, server: truth.server_name,
      });
    }
    t.sim.setContainerStatus(t.sim.containerId, 'stopped');
    try {
      const r = await t.c.client.readResource({ uri: `hoody://containers/${t.sim.containerId}` });
      expect(JSON.parse((r.contents[0] as { text: string }).text)).toMatchObject({ status: 'stopped' });
    } finally {
      t.sim.setContainerStatus(t.sim.containerId, 'running');
    }
    await expect(t.c.client.readResource({ uri: 'hoody://containers/no-such-box' })).rejects.toThrow(/no-such-box/);
  });

  it('completes container names and ids in resource templates', async () => {
    const r = await t.c.client.complete({ ref: { type: 'ref/resource', uri: 'hoody://containers/{container}' }, argument: { name: 'container', value: t.sim.containerName.slice(0, 3) } });
    expect(r.completion.values).toContain(t.sim.containerName);
    const none = await t.c.client.complete({ ref: { type: 'ref/resource', uri: 'hoody://containers/{container}' }, argument: { name: 'container', value: 'zzz-no' } });
    expect(none.completion.values).toEqual([]);
  });
});

everyToolChecks(t, 'containers');
