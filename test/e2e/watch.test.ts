/** file_watch end to end: waits for the first change, returns a cursor, and continues with no event lost. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { call, connectStdio, useSimAndStdio, waitFor, type Connected, type Era } from '../helpers/harness.js';

// old.txt exists from the start (long before any watcher), so a rename is the only news about it.
const t = useSimAndStdio({
  setup: async (sim) => {
    await mkdir(sim.containerPath(sim.containerId, '/home/user/w'), { recursive: true });
    await writeFile(sim.containerPath(sim.containerId, '/home/user/w/old.txt'), 'x');
  },
});
const host = (p: string) => t.sim.containerPath(t.sim.containerId, p);
/**
 * Watch-kit requests answered so far. A watch is in place once the first of its requests is
 * answered: POST /watchers for a new watcher, or the read of the newest event id for a reused one.
 */
const answered = () => t.sim.requests.filter((q) => q.host === 'watch' && q.status > 0 && q.status < 300).length;
const watcherReady = (before: number) => waitFor('the watch to be in place', () => answered() > before);

describe('file_watch', () => {
  it('waits for the first change, then continues from its cursor without losing events', async () => {
    const watchers = answered();
    const first = call(t.c.client, 'file_watch', { paths: ['/home/user/w'], wait_s: 10 });
    await watcherReady(watchers);
    await call(t.c.client, 'file_write', { path: '/home/user/w/a.txt', content: 'hello' });
    const r1 = await first;
    expect(r1.isError, r1.text).toBe(false);
    expect(r1.text).toMatch(/\/home\/user\/w\/a\.txt/);
    const cursor = (r1.structured as { cursor: string }).cursor;
    expect(cursor).toMatch(/^[0-9a-f-]{36}@\d+$/);

    // Changes made between calls are not lost: they come back on the next call.
    await writeFile(host('/home/user/w/b.txt'), 'b');
    await call(t.c.client, 'exec_run', { command: 'echo c > /home/user/w/c.txt' });
    await new Promise((r) => setTimeout(r, 500));
    const r2 = await call(t.c.client, 'file_watch', { since: cursor, wait_s: 5 });
    expect(r2.text).toContain('/home/user/w/b.txt');
    expect(r2.text).toContain('/home/user/w/c.txt');
    expect(r2.text).not.toContain('a.txt');

    // Nothing new: waits wait_s and says so, cursor unchanged.
    const cursor2 = (r2.structured as { cursor: string }).cursor;
    const t0 = Date.now();
    const r3 = await call(t.c.client, 'file_watch', { since: cursor2, wait_s: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(r3.text).toMatch(/^no changes within 1 s · cursor /);
    expect((r3.structured as { cursor: string }).cursor).toBe(cursor2);
  });

  it('reports renames and removals', async () => {
    const watchers = answered();
    const p = call(t.c.client, 'file_watch', { paths: ['/home/user/w'], wait_s: 10 });
    await watcherReady(watchers);
    await rename(host('/home/user/w/old.txt'), host('/home/user/w/new.txt'));
    const r = await p;
    expect(r.text).toMatch(/renamed +\/home\/user\/w\/old\.txt → \/home\/user\/w\/new\.txt/);
  });

  it('refuses bad cursors and missing paths clearly', async () => {
    const bad = await call(t.c.client, 'file_watch', { since: 'garbage' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/not a file_watch cursor/);
    const gone = await call(t.c.client, 'file_watch', { since: '00000000-0000-4000-8000-000000000000@5', wait_s: 1 });
    expect(gone.isError).toBe(true);
    expect(gone.text).toMatch(/watcher behind this cursor is gone — events since this cursor are lost/);
    const missing = await call(t.c.client, 'file_watch', { paths: ['/home/user/does-not-exist'], wait_s: 1 });
    expect(missing.isError).toBe(true);
    const none = await call(t.c.client, 'file_watch', { wait_s: 1 });
    expect(none.text).toMatch(/nothing to watch/);
  });
});

/** Subscribe the 2025 way (resources/subscribe) or the 2026-07-28 way (subscriptions/listen); returns the unsubscribe. */
async function subscribe(client: Connected['client'], era: Era, uri: string): Promise<() => Promise<unknown>> {
  if (era === '2026-07-28') {
    const sub = await client.listen({ resourceSubscriptions: [uri] });
    expect(sub.honoredFilter.resourceSubscriptions).toEqual([uri]);
    return () => sub.close();
  }
  await client.subscribeResource({ uri });
  return () => client.unsubscribeResource({ uri });
}

describe.each(['2025-11-25', '2026-07-28'] as const)('resource subscriptions over stdio, %s', (era) => {
  it('notifies resources/updated when a subscribed file changes (only that file), until unsubscribed', async () => {
    const cc = await connectStdio(t.sim, { era, args: ['--container', t.sim.containerId] });
    try {
      const file = `/home/user/w/sub-${era}.txt`;
      await writeFile(host(file), 'v1');
      const uri = `hoody://containers/${t.sim.containerId}/files${file}`;
      const updates: string[] = [];
      cc.client.setNotificationHandler('notifications/resources/updated', (n) => void updates.push(n.params.uri));
      const watchers = answered();
      const unsubscribe = await subscribe(cc.client, era, uri);
      await watcherReady(watchers);
      await writeFile(host('/home/user/w/other.txt'), 'not me');
      await call(cc.client, 'file_write', { path: file, content: 'v2' });
      const deadline = Date.now() + 5000;
      while (!updates.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(updates.length).toBeGreaterThan(0);
      expect(new Set(updates)).toEqual(new Set([uri])); // other.txt changed too, but was not subscribed
      await unsubscribe();
      await new Promise((r) => setTimeout(r, 500)); // in-flight notifications land; nothing observable marks the end
      const settled = updates.length;
      await writeFile(host(file), 'v3');
      await new Promise((r) => setTimeout(r, 1500));
      expect(updates.length).toBe(settled);
    } finally {
      await cc.close();
    }
  });
});

describe('resource subscriptions: what cannot be subscribed', () => {
  it('refuses non-file resources and missing files', async () => {
    const cc = await connectStdio(t.sim, { era: '2025-11-25', args: ['--container', t.sim.containerId] });
    try {
      await expect(cc.client.subscribeResource({ uri: 'hoody://containers' })).rejects.toThrow(/cannot be subscribed/);
      await expect(cc.client.subscribeResource({ uri: `hoody://containers/${t.sim.containerId}/files/home/user/w/nope.txt` })).rejects.toThrow(/does not exist/);
    } finally {
      await cc.close();
    }
  });
});
