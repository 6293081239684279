import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../src/sim/index.js';
import { WATCH_LIMITS } from '../../src/sim/kits/watch/types.js';
import { hostOf, kit, until } from './helpers.js';

let sim: Sim;
let W: ReturnType<typeof kit>;
let F: ReturnType<typeof kit>;
const host = (p: string): string => sim.containerPath(sim.containerId, p);
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

interface Ev {
  id: number;
  kind: string;
  path: string;
  old_path: string | null;
  is_dir: boolean;
  new_size_bytes: number | null;
  old_size_bytes: number | null;
  timestamp: string;
  watcher_id: string;
}

beforeAll(async () => {
  sim = await startSim({});
  W = kit(sim, 'watch');
  F = kit(sim, 'files');
  for (const d of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) await mkdir(host(`/home/user/wt/${d}`), { recursive: true });
});
afterAll(async () => {
  await sim?.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await W('POST', '/watchers', { coalesce_ms: 20, ...body });
  expect(r.status, r.text).toBe(201);
  return r.json.id as string;
}

async function events(id: string, query = ''): Promise<{ items: Ev[]; newest_available_id: number | null; total: number }> {
  const r = await W('GET', `/watchers/${id}/events${query}`);
  expect(r.status, r.text).toBe(200);
  return r.json;
}

/** Polls until `pred` holds on the events after `since`. */
async function waitEvents(id: string, pred: (evs: Ev[]) => boolean, query = ''): Promise<Ev[]> {
  return until(async () => {
    const r = await events(id, query);
    return pred(r.items) ? r.items : undefined;
  }, 5000);
}

interface Stream {
  status: Promise<number>;
  text: () => string;
  ended: Promise<void>;
  close: () => void;
}

function openSse(path: string): Stream {
  let buf = '';
  let req: http.ClientRequest;
  let onEnd: () => void = () => undefined;
  const ended = new Promise<void>((r) => (onEnd = r));
  const status = new Promise<number>((resolve, reject) => {
    req = http.request({ host: '127.0.0.1', port: sim.port, path, headers: { Host: hostOf(sim.kitUrl(sim.containerId, 'watch')), Accept: 'text/event-stream' }, agent: false }, (res) => {
      resolve(res.statusCode ?? 0);
      res.on('data', (c: Buffer) => (buf += c.toString()));
      res.on('end', onEnd);
      res.on('close', onEnd);
    });
    req.on('error', (e) => {
      onEnd();
      reject(e);
    });
    req.end();
  });
  status.catch(() => undefined);
  return { status, text: () => buf, ended, close: () => req.destroy() };
}

function frames(text: string): Array<{ id: number; event: string; data: Ev }> {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('id: '))
    .map((f) => {
      const m = /^id: (\d+)\nevent: (\S+)\ndata: (.*)$/.exec(f);
      if (!m) throw new Error(`bad frame: ${JSON.stringify(f)}`);
      return { id: Number(m[1]), event: m[2] as string, data: JSON.parse(m[3] as string) as Ev };
    });
}

describe('watchers: create / get / list / delete', () => {
  it('serves health and the documented shapes (top-level id, no data envelope)', async () => {
    expect((await W('GET', '/api/v1/watch/health')).json).toMatchObject({ status: 'ok', service: 'watch' });
    const r = await W('POST', '/watchers', { paths: ['/home/user/wt/a'] });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      created_at: expect.any(String),
      config: {
        paths: ['/home/user/wt/a'], recursive: true, include: [], exclude: [],
        ignore_dirs: ['node_modules', '.git', 'target', '__pycache__', '.hg', '.svn', '.cache', 'dist', '.next', '.nuxt', 'vendor', 'bower_components'],
        kinds: null, coalesce_ms: 100, history_size: 100_000, history_limit_bytes: 16 * 1024 * 1024,
      },
      stats: { events_seen: 0, events_broadcast: 0, events_dropped: 0, stream_errors: 0, active_clients: 0 },
    });
    const id = r.json.id as string;
    expect((await W('GET', `/watchers/${id}`)).json).toMatchObject({ id, config: { paths: ['/home/user/wt/a'] } });
    const id2 = await create({ paths: ['/home/user/wt/b'], ignore_dirs: [], kinds: ['created'], recursive: false, history_size: 5 });
    expect((await W('GET', `/watchers/${id2}`)).json.config).toMatchObject({ ignore_dirs: [], kinds: ['created'], recursive: false, history_size: 5, coalesce_ms: 20 });
    const l = await W('GET', '/watchers?limit=1&page=2');
    expect(l.json).toMatchObject({ page: 2, limit: 1, total: 2 });
    expect(l.json.items.map((w: { id: string }) => w.id)).toEqual([id2]);
    expect((await W('GET', '/watchers')).json).toMatchObject({ page: 1, limit: 50, total: 2 });
    expect((await W('DELETE', `/watchers/${id}`)).json).toEqual({ id, deleted: true });
    expect((await W('DELETE', `/watchers/${id2}`)).json).toEqual({ id: id2, deleted: true });
    expect((await W('GET', `/watchers/${id}`)).json).toEqual({ code: 'WATCHER_NOT_FOUND', message: 'Watcher not found', details: null });
    expect((await W('GET', `/watchers/${id}/events`)).status).toBe(404);
    expect((await W('DELETE', `/watchers/${id}`)).status).toBe(404);
    expect((await W('GET', '/watchers')).json.total).toBe(0);
  });

  it('answers the documented errors', async () => {
    const bad = await W('GET', '/watchers/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('INVALID_REQUEST');
    expect((await W('DELETE', '/watchers/123')).status).toBe(400);
    expect((await W('GET', `/watchers/${UNKNOWN}`)).status).toBe(404);
    expect((await W('GET', `/watchers/${UNKNOWN}/events/sse`)).json.code).toBe('WATCHER_NOT_FOUND');
    const missing = await W('POST', '/watchers', { paths: ['/home/user/does-not-exist'] });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ code: 'INVALID_REQUEST', message: 'path not found: /home/user/does-not-exist' });
    expect(JSON.parse(missing.json.details)).toMatchObject({ reason: 'PathNotFound' });
    expect((await W('POST', '/watchers', { paths: [] })).json).toMatchObject({ code: 'INVALID_REQUEST', message: 'path list cannot be empty' });
    expect((await W('POST', '/watchers', {})).status).toBe(400);
    expect((await W('POST', '/watchers', 'not json')).status).toBe(400);
    expect((await W('POST', '/watchers', { paths: ['relative/path'] })).json.code).toBe('INVALID_REQUEST');
    expect((await W('POST', '/watchers', { paths: ['/etc'] })).status).toBe(400);
    expect((await W('POST', '/watchers', { paths: ['/home/user/wt'], kinds: ['exploded'] })).status).toBe(400);
    expect((await W('POST', '/watchers', { paths: ['/home/user/wt'], ignore_dirs: ['a/b'] })).status).toBe(400);
    expect((await W('POST', '/watchers', { paths: Array(33).fill('/home/user/wt') })).json.code).toBe('LIMIT_EXCEEDED');
    const id = await create({ paths: ['/home/user/wt/a'] });
    const both = await W('GET', `/watchers/${id}/events?since_id=1&since_timestamp=1700000000`);
    expect(both.status).toBe(400);
    expect(both.json.code).toBe('INVALID_CURSOR');
    expect((await W('GET', `/watchers/${id}/events/sse?since_id=1&since_timestamp=1700000000`)).json.code).toBe('INVALID_CURSOR');
    expect((await W('GET', `/watchers/${id}/events?since_timestamp=yesterday`)).json.code).toBe('INVALID_CURSOR');
    expect((await W('GET', `/watchers/${id}/events?since_id=-3`)).json.code).toBe('INVALID_CURSOR');
    expect((await W('GET', `/watchers/${id}/events?limit=201`)).json).toEqual({ code: 'INVALID_PAGINATION', message: 'Limit must be between 1 and 200', details: null });
    expect((await W('GET', `/watchers?page=0`)).json.code).toBe('INVALID_PAGINATION');
    expect((await W('GET', `/api/v1/watch/nope`)).status).toBe(404);
    await W('DELETE', `/watchers/${id}`);
  });

  it('caps watchers per kit (409 LIMIT_EXCEEDED) and stream clients per watcher (429)', async () => {
    const saved = { ...WATCH_LIMITS };
    WATCH_LIMITS.maxWatchers = 2;
    WATCH_LIMITS.maxClients = 1;
    try {
      const a = await create({ paths: ['/home/user/wt/a'] });
      const b = await create({ paths: ['/home/user/wt/b'] });
      expect((await W('POST', '/watchers', { paths: ['/home/user/wt/c'] })).json).toEqual({ code: 'LIMIT_EXCEEDED', message: 'watcher limit reached', details: null });
      const s = openSse(`/watchers/${a}/events/sse`);
      expect(await s.status).toBe(200);
      await until(async () => (await W('GET', `/watchers/${a}`)).json.stats.active_clients === 1);
      const second = await W('GET', `/watchers/${a}/events/sse`);
      expect(second.status).toBe(429);
      expect(second.json.code).toBe('MAX_CLIENTS_REACHED');
      s.close();
      await until(async () => (await W('GET', `/watchers/${a}`)).json.stats.active_clients === 0);
      await W('DELETE', `/watchers/${b}`);
      expect((await W('POST', '/watchers', { paths: ['/home/user/wt/c'] })).status).toBe(201);
    } finally {
      Object.assign(WATCH_LIMITS, saved);
      for (const w of (await W('GET', '/watchers')).json.items) await W('DELETE', `/watchers/${w.id}`);
    }
  });
});

describe('events', () => {
  it('reports a files-kit write and a terminal-created file with container paths (created size 0, then modified)', async () => {
    const id = await create({ paths: ['/home/user/wt/c'] });
    await F('PUT', '/api/v1/files/home/user/wt/c/from-files.txt', 'hello');
    const evs = await waitEvents(id, (e) => e.some((x) => x.kind === 'modified' && x.path === '/home/user/wt/c/from-files.txt'));
    expect(evs.filter((e) => e.path === '/home/user/wt/c/from-files.txt').map((e) => [e.kind, e.new_size_bytes])).toEqual([['created', 0], ['modified', 5]]);
    expect(evs.every((e) => !e.path.includes('upload'))).toBe(true);
    expect(evs[0]).toMatchObject({ watcher_id: id, is_dir: false, old_path: null, details: null });
    expect(Number.isNaN(Date.parse(evs[0]?.timestamp as string))).toBe(false);

    const T = kit(sim, 'terminal');
    const r = await T('POST', '/api/v1/terminal/execute?ephemeral=true', { command: 'mkdir -p wt/c/sub && echo hi > wt/c/sub/from-term.txt' });
    expect(r.json.exit_code).toBe(0);
    const all = await waitEvents(id, (e) => e.some((x) => x.path === '/home/user/wt/c/sub/from-term.txt' && x.kind === 'modified'));
    expect(all.find((e) => e.path === '/home/user/wt/c/sub')).toMatchObject({ kind: 'created', is_dir: true, new_size_bytes: null });
    expect(all.find((e) => e.path === '/home/user/wt/c/sub/from-term.txt' && e.kind === 'modified')?.new_size_bytes).toBe(3);
    const ids = all.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    // Modify, chmod, delete a known file.
    await writeFile(host('/home/user/wt/c/from-files.txt'), 'hello world');
    await waitEvents(id, (e) => e.some((x) => x.kind === 'modified' && x.new_size_bytes === 11 && x.old_size_bytes === 5));
    await F('DELETE', '/api/v1/files/home/user/wt/c/from-files.txt');
    await waitEvents(id, (e) => e.some((x) => x.kind === 'removed' && x.path === '/home/user/wt/c/from-files.txt' && x.old_size_bytes === 11));
    const st = (await W('GET', `/watchers/${id}`)).json.stats;
    expect(st.events_seen).toBeGreaterThanOrEqual(6);
    expect(st.events_broadcast).toBe(st.events_seen);
    await W('DELETE', `/watchers/${id}`);
  });

  it('continues with since_id without losing anything; ids are global across watchers; since_timestamp in 3 formats', async () => {
    const id = await create({ paths: ['/home/user/wt/d'] });
    const other = await create({ paths: ['/home/user/wt/e'] });
    await writeFile(host('/home/user/wt/d/one.txt'), '1');
    const first = await waitEvents(id, (e) => e.some((x) => x.kind === 'modified'));
    const page = await events(id);
    const cursor = page.newest_available_id as number;
    expect(cursor).toBe(first[first.length - 1]?.id);
    // The cursor must be strictly after every event so far (timestamps have ms resolution).
    await until(async () => Date.now() > Date.parse(first[first.length - 1]?.timestamp as string));
    const tsCursor = Date.now();
    await writeFile(host('/home/user/wt/e/x.txt'), 'x');
    await waitEvents(other, (e) => e.length >= 2);
    await writeFile(host('/home/user/wt/d/two.txt'), '22');
    await writeFile(host('/home/user/wt/d/three.txt'), '333');
    const next = await waitEvents(id, (e) => e.filter((x) => x.kind === 'modified').length === 2, `?since_id=${cursor}`);
    expect(next.every((e) => e.id > cursor)).toBe(true);
    expect(next.map((e) => e.path).sort()).toEqual(['/home/user/wt/d/three.txt', '/home/user/wt/d/three.txt', '/home/user/wt/d/two.txt', '/home/user/wt/d/two.txt']);
    // The other watcher's events took ids in between: ids are process-global.
    const otherIds = (await events(other)).items.map((e) => e.id);
    expect(Math.min(...otherIds)).toBeGreaterThan(cursor);
    expect(Math.max(...otherIds)).toBeLessThan(Math.min(...next.map((e) => e.id)));
    // Pagination over the same cursor.
    const p1 = await events(id, `?since_id=${cursor}&limit=3&page=1`);
    const p2 = await events(id, `?since_id=${cursor}&limit=3&page=2`);
    expect(p1.total).toBe(4);
    expect([...p1.items, ...p2.items].map((e) => e.id)).toEqual(next.map((e) => e.id));
    // since_timestamp: unix ms, unix s, RFC3339 (strictly after).
    expect((await events(id, `?since_timestamp=${tsCursor}`)).items.map((e) => e.id)).toEqual(next.map((e) => e.id));
    const bySeconds = (await events(id, `?since_timestamp=${Math.floor(tsCursor / 1000) - 1}`)).items;
    expect(bySeconds.map((e) => e.id)).toEqual(expect.arrayContaining(next.map((e) => e.id)));
    expect(bySeconds.every((e) => Date.parse(e.timestamp) >= (Math.floor(tsCursor / 1000) - 1) * 1000)).toBe(true);
    expect((await events(id, `?since_timestamp=${encodeURIComponent(new Date(tsCursor).toISOString())}`)).total).toBe(4);
    expect((await events(id, `?since_timestamp=${Date.now() + 60_000}`)).items).toEqual([]);
    expect((await events(id, `?since_id=${cursor + 1_000_000}`)).items).toEqual([]);
    await W('DELETE', `/watchers/${id}`);
    await W('DELETE', `/watchers/${other}`);
  });

  it('pairs renames into one renamed event with old_path; moves a whole directory', async () => {
    await writeFile(host('/home/user/wt/f/old.txt'), 'abc');
    await mkdir(host('/home/user/wt/f/dir1/inner'), { recursive: true });
    const id = await create({ paths: ['/home/user/wt/f'] });
    await rename(host('/home/user/wt/f/old.txt'), host('/home/user/wt/f/new.txt'));
    const evs = await waitEvents(id, (e) => e.length > 0);
    expect(evs).toEqual([expect.objectContaining({ kind: 'renamed', path: '/home/user/wt/f/new.txt', old_path: '/home/user/wt/f/old.txt', new_size_bytes: 3, old_size_bytes: 3 })]);
    // The files kit's move, and a directory rename (its contents keep being watched under the new name).
    await F('POST', '/api/v1/files/move/home/user/wt/f/new.txt?move_to=/home/user/wt/f/dir1/moved.txt');
    await rename(host('/home/user/wt/f/dir1'), host('/home/user/wt/f/dir2'));
    await waitEvents(id, (e) => e.some((x) => x.kind === 'renamed' && x.path === '/home/user/wt/f/dir2'));
    await writeFile(host('/home/user/wt/f/dir2/inner/late.txt'), 'late');
    const all = await waitEvents(id, (e) => e.some((x) => x.path === '/home/user/wt/f/dir2/inner/late.txt' && x.kind === 'modified'));
    // Net effect per coalesce window: if the directory moved in the same window, the file is reported at its final place.
    expect(all.find((e) => e.old_path === '/home/user/wt/f/new.txt')).toMatchObject({ kind: 'renamed', path: expect.stringMatching(/^\/home\/user\/wt\/f\/dir[12]\/moved\.txt$/) });
    expect(all.find((e) => e.path === '/home/user/wt/f/dir2')).toMatchObject({ kind: 'renamed', is_dir: true, old_path: '/home/user/wt/f/dir1' });
    await rm(host('/home/user/wt/f/dir2'), { recursive: true });
    const gone = await waitEvents(id, (e) => e.some((x) => x.kind === 'removed' && x.path === '/home/user/wt/f/dir2'));
    expect(gone.filter((e) => e.kind === 'removed').map((e) => e.path)).toEqual(expect.arrayContaining(['/home/user/wt/f/dir2/inner/late.txt', '/home/user/wt/f/dir2']));
    await W('DELETE', `/watchers/${id}`);
  });

  it('filters by include / exclude (wins) / kinds / ignore_dirs / skip_hidden', async () => {
    await mkdir(host('/home/user/wt/g/node_modules'), { recursive: true });
    const logs = await create({ paths: ['/home/user/wt/g'], include: ['**/*.log'], exclude: ['**/secret-*.log'], kinds: ['modified'] });
    const dflt = await create({ paths: ['/home/user/wt/g'], skip_hidden: true });
    await writeFile(host('/home/user/wt/g/app.log'), 'a');
    await writeFile(host('/home/user/wt/g/secret-1.log'), 's');
    await writeFile(host('/home/user/wt/g/data.json'), '{}');
    await writeFile(host('/home/user/wt/g/node_modules/dep.js'), 'x');
    await writeFile(host('/home/user/wt/g/.hidden'), 'h');
    await writeFile(host('/home/user/wt/g/zz-last.txt'), 'z');
    const d = await waitEvents(dflt, (e) => e.some((x) => x.path.endsWith('zz-last.txt')));
    expect([...new Set(d.map((e) => e.path))].sort()).toEqual(['/home/user/wt/g/app.log', '/home/user/wt/g/data.json', '/home/user/wt/g/secret-1.log', '/home/user/wt/g/zz-last.txt']);
    const l = (await events(logs)).items;
    expect(l.map((e) => [e.kind, e.path])).toEqual([['modified', '/home/user/wt/g/app.log']]);
    const st = (await W('GET', `/watchers/${logs}`)).json.stats;
    expect(st.events_seen).toBeGreaterThan(st.events_broadcast);
    await W('DELETE', `/watchers/${logs}`);
    await W('DELETE', `/watchers/${dflt}`);
  });

  it('answers 409 HISTORY_GAP (JSON-encoded details) once the buffer rolled past the cursor', async () => {
    const id = await create({ paths: ['/home/user/wt/h'], history_size: 3, kinds: ['created'] });
    for (let i = 1; i <= 5; i++) await writeFile(host(`/home/user/wt/h/f${i}.txt`), '');
    const kept = await waitEvents(id, (e) => e.some((x) => x.path.endsWith('f5.txt')));
    expect(kept.map((e) => e.path)).toEqual(['/home/user/wt/h/f3.txt', '/home/user/wt/h/f4.txt', '/home/user/wt/h/f5.txt']);
    const gap = await W('GET', `/watchers/${id}/events?since_id=0`);
    expect(gap.status).toBe(409);
    expect(gap.json.code).toBe('HISTORY_GAP');
    expect(JSON.parse(gap.json.details)).toEqual({ oldest_available_id: kept[0]?.id, newest_available_id: kept[2]?.id, requested_cursor: 0 });
    expect((await W('GET', `/watchers/${id}/events/sse?since_id=0`)).status).toBe(409);
    expect((await W('GET', `/watchers/${id}/events?since_timestamp=0`)).json.code).toBe('HISTORY_GAP');
    // The newest evicted id is still a valid cursor: nothing after it was lost.
    expect((await events(id, `?since_id=${(kept[0]?.id as number) - 1}`)).items).toHaveLength(3);
    expect((await events(id, `?since_id=${kept[1]?.id}`)).items.map((e) => e.id)).toEqual([kept[2]?.id]);
    await W('DELETE', `/watchers/${id}`);
  });

  it('streams SSE frames exactly: replay after the cursor, then live, keepalive comments; DELETE ends the stream', async () => {
    const saved = WATCH_LIMITS.keepaliveMs;
    WATCH_LIMITS.keepaliveMs = 100;
    try {
      await mkdir(host('/home/user/wt/s'), { recursive: true });
      const id = await create({ paths: ['/home/user/wt/s'], kinds: ['created'] });
      await writeFile(host('/home/user/wt/s/1.txt'), '');
      await writeFile(host('/home/user/wt/s/2.txt'), '');
      const before = await waitEvents(id, (e) => e.length === 2);
      const s = openSse(`/watchers/${id}/events/sse?since_id=${before[0]?.id}`);
      expect(await s.status).toBe(200);
      await writeFile(host('/home/user/wt/s/3.txt'), '');
      await until(async () => frames(s.text()).length === 2 && s.text().includes(': keepalive\n\n'));
      const f = frames(s.text());
      expect(f.map((x) => [x.event, x.data.path])).toEqual([['file_event', '/home/user/wt/s/2.txt'], ['file_event', '/home/user/wt/s/3.txt']]);
      expect(f[0]?.id).toBe(before[1]?.id);
      expect(f[0]?.data).toEqual(before[1]);
      expect(s.text().startsWith(`id: ${before[1]?.id}\nevent: file_event\ndata: {"id":${before[1]?.id},`)).toBe(true);
      expect((await W('GET', `/watchers/${id}`)).json.stats.active_clients).toBe(1);
      // Without a cursor: live only; Last-Event-ID is ignored.
      const live = openSse(`/watchers/${id}/events/sse`);
      expect(await live.status).toBe(200);
      // A replay would be written before the first keepalive: once it arrives, none came.
      await until(async () => live.text().includes(': keepalive\n\n'));
      expect(frames(live.text())).toEqual([]);
      await W('DELETE', `/watchers/${id}`);
      await s.ended;
      await live.ended;
    } finally {
      WATCH_LIMITS.keepaliveMs = saved;
    }
  });
});

describe('cleanup', () => {
  it('drops the watchers of a stopped container', async () => {
    const id = await create({ paths: ['/home/user/wt/a'] });
    const s = openSse(`/watchers/${id}/events/sse`);
    expect(await s.status).toBe(200);
    sim.setContainerStatus(sim.containerId, 'stopped');
    await s.ended;
    sim.setContainerStatus(sim.containerId, 'running');
    expect((await W('GET', `/watchers/${id}`)).status).toBe(404);
  });

  it('closes watchers, streams and timers on sim.close()', async () => {
    const other = await startSim({});
    const k = kit(other, 'watch');
    const before = process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
    const r = await k('POST', '/watchers', { paths: ['/home/user'] });
    expect(r.status).toBe(201);
    const streamHost = hostOf(other.kitUrl(other.containerId, 'watch'));
    const ended = new Promise<void>((resolve) => {
      http.get({ host: '127.0.0.1', port: other.port, path: `/watchers/${r.json.id}/events/sse`, headers: { Host: streamHost }, agent: false }, (res) => {
        res.resume();
        res.on('close', resolve);
      });
    });
    await until(async () => (await k('GET', `/watchers/${r.json.id}`)).json.stats.active_clients === 1);
    expect(process.getActiveResourcesInfo().filter((x) => x === 'FSEventWrap').length).toBeGreaterThan(before);
    await other.close();
    await ended;
    expect(process.getActiveResourcesInfo().filter((x) => x === 'FSEventWrap').length).toBe(before);
  });
});
