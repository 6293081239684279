/**
 * The services toolset in-process: a real HTTP server started as a service, reached through the
 * simulator's http-<port> proxy; logs after the one-off was reaped; stop; a dead port.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { everyToolChecks } from './catalogue.js';
import { call, useInproc } from '../helpers/inproc.js';

const t = useInproc();

/** A port nothing listens on (asked of the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('services toolset', () => {
  it('starts an HTTP server, returns its URL once it answers, and the URL reaches it through the proxy', async () => {
    const port = await freePort();
    const progress: string[] = [];
    const cmd = `echo serving; echo warn >&2; exec python3 -m http.server ${port} --bind 127.0.0.1`;
    const r = await call(t.c.client, 'service_start', { command: cmd, name: 'web', port, wait_s: 20 }, { onprogress: (p) => progress.push(p.message ?? '') });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toMatch(new RegExp(`port ${port} answers \\(HTTP 200\\)`));
    const url = (r.structured as { url: string }).url;
    expect(url).toContain(`-http-${port}.`);
    // Host names under .localhost resolve to loopback only through the core's dispatcher; ask it the same way.
    const { request } = await import('../../src/core/http.js');
    const res = await request({ method: 'GET', url: new URL(url), source: 'test' });
    expect(res.status).toBe(200);
    expect(await res.body.text()).toContain('Directory listing');

    const list = await call(t.c.client, 'service_list');
    expect(list.text).toMatch(/quick_\d+_\d+\s+web\s+one-off\s+running/);
    const id = (r.structured as { service: string }).service;

    const url2 = await call(t.c.client, 'port_url', { port });
    expect(url2.structured).toMatchObject({ answers: true, status: 200 });

    const stop = await call(t.c.client, 'service_stop', { service: 'web' });
    expect(stop.isError, stop.text).toBe(false);
    // Reaped: the kit 404s its logs, the tool still shows what it printed.
    const logs = await call(t.c.client, 'service_logs', { service: id });
    expect(logs.isError, logs.text).toBe(false);
    expect(logs.text).toContain('serving');
    // Without stream, both: many servers log to stderr only.
    expect(logs.text).toMatch(/^stdout of [\s\S]*serving[\s\S]*\nstderr of [\s\S]*warn/);
    const err = await call(t.c.client, 'service_logs', { service: id, stream: 'stderr' });
    expect(err.text).toContain('warn');
    expect(err.text).not.toContain('serving');

    const dead = await call(t.c.client, 'port_url', { port });
    expect(dead.structured).toMatchObject({ answers: false });
  });

  it('a one-off that exited by itself: its logs are read from disk after the kit forgot it', async () => {
    const r = await call(t.c.client, 'service_start', { command: 'echo done-marker', name: 'oneshot' });
    expect(r.isError, r.text).toBe(false);
    const id = (r.structured as { service: string }).service;
    const { waitFor } = await import('../helpers/inproc.js');
    await waitFor('the one-off to be reaped', async () => !(await call(t.c.client, 'service_list')).text.includes(id));
    const logs = await call(t.c.client, 'service_logs', { service: id });
    expect(logs.isError, logs.text).toBe(false);
    expect(logs.text).toContain('done-marker');
  });

  it('a service that dies is reported, not waited on; bad input is refused clearly', async () => {
    const port = await freePort();
    const r = await call(t.c.client, 'service_start', { command: 'exit 3', port, wait_s: 10 });
    expect(r.text).toMatch(/the service is (exited|fatal)/);
    const bad = await call(t.c.client, 'service_start', { command: 'echo a\nrm -rf /' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/one line/);
    const name = await call(t.c.client, 'service_start', { command: 'true', name: '../../etc' });
    expect(name.isError).toBe(true);
    const none = await call(t.c.client, 'service_logs', { service: '../../../etc/passwd' });
    expect(none.isError).toBe(true);
  });

  it('a restart=true program is restarted after it exits, and can be stopped and removed', async () => {
    const r = await call(t.c.client, 'service_start', { command: 'echo tick; sleep 0.3', name: 'ticker', restart: true });
    expect(r.isError, r.text).toBe(false);
    const { waitFor } = await import('../helpers/inproc.js');
    await waitFor('two runs', async () => ((await call(t.c.client, 'service_logs', { service: 'ticker' })).text.match(/tick/g) ?? []).length >= 2, { timeoutMs: 8000 });
    const stop = await call(t.c.client, 'service_stop', { service: 'ticker', remove: true });
    expect(stop.text).toMatch(/removed/);
    expect((await call(t.c.client, 'service_list')).text).not.toContain('ticker');
  });
  it('logs captured before a stop stand in when the files on disk are gone', async () => {
    const r = await call(t.c.client, 'service_start', { command: 'echo captured-out; echo captured-err >&2; exec sleep 60', name: 'capt' });
    const id = (r.structured as { service: string }).service;
    const { waitFor } = await import('../helpers/inproc.js');
    await waitFor('both streams written', async () => (await call(t.c.client, 'service_logs', { service: id, stream: 'stderr' })).text.includes('captured-err'));
    expect((await call(t.c.client, 'service_stop', { service: id })).isError).toBe(false);
    // The kit reaped the entry (its logs 404) and the files are gone too (rotated, deleted): only the capture is left.
    rmSync(t.sim.containerPath(t.sim.containerId, '/hoody/storage/hoody-daemon/logs/capt'), { recursive: true, force: true });
    const out = await call(t.c.client, 'service_logs', { service: id });
    expect(out.isError, out.text).toBe(false);
    expect(out.text).toBe('stdout of capt (service gone; saved log):\ncaptured-out\nstderr of capt (service gone; saved log):\ncaptured-err');
    expect((await call(t.c.client, 'service_logs', { service: id, stream: 'stderr' })).text).toContain('captured-err');
  });

  it('a registered program survives a container restart: it is started again at boot, a one-off is not', async () => {
    const { waitFor } = await import('../helpers/inproc.js');
    const r = await call(t.c.client, 'service_start', { command: 'echo keeper-up; exec sleep 120', name: 'keeper', restart: true });
    expect(r.isError, r.text).toBe(false);
    await call(t.c.client, 'service_start', { command: 'exec sleep 120', name: 'transient' });
    const pidOf = (text: string) => Number(/\bkeeper\s+program\s+running pid (\d+)/.exec(text)?.[1] ?? 0);
    const before = await waitFor('keeper running', async () => pidOf((await call(t.c.client, 'service_list')).text));
    const restart = await call(t.c.client, 'container_action', { action: 'restart' });
    expect(restart.isError, restart.text).toBe(false);
    const list = await waitFor('keeper running again', async () => {
      const l = (await call(t.c.client, 'service_list')).text;
      return pidOf(l) && pidOf(l) !== before ? l : undefined;
    });
    expect(list).not.toContain('transient');
    await waitFor('a second run in its log', async () => ((await call(t.c.client, 'service_logs', { service: 'keeper' })).text.match(/keeper-up/g) ?? []).length === 2);
    expect((await call(t.c.client, 'service_stop', { service: 'keeper', remove: true })).isError).toBe(false);
  });
});

everyToolChecks(t, 'services');
