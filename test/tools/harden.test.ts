/**
 * Hostile input in process (issue 17): each numbered defect reproduced against the real server
 * factory and one simulator.
 */
import { describe, expect, it } from 'vitest';
import { safePath, urlPath } from '../../src/core/paths.js';
import { call, connectInproc, useInproc } from '../helpers/inproc.js';

const t = useInproc();

describe('(5) ids and names never climb out of their URL path', () => {
  it('container_create / container_list with a traversal project are refused before any request', async () => {
    const before = t.sim.requests.length;
    const created = await call(t.c.client, 'container_create', { project: '../auth/tokens?', name: 'evil-one' });
    expect(created.isError).toBe(true);
    expect(created.text).toMatch(/project "\.\.\/auth\/tokens\?" is not an id .*project_list/);
    const listed = await call(t.c.client, 'container_list', { project: '../auth/tokens?' });
    expect(listed.isError).toBe(true);
    expect(listed.text).not.toMatch(/Cannot read properties/);
    expect(t.sim.requests.slice(before).filter((q) => q.path.includes('/auth'))).toEqual([]);
  });

  it('a container reference that is not an id is resolved by name, never sent as a path', async () => {
    const r = await call(t.c.client, 'container_get', { container: '../../auth/tokens' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/no container named/);
  });

  it('urlPath encodes each value as one segment; safePath refuses dot segments, queries and other hosts', () => {
    expect(urlPath`/containers/${'a/b?c'}/x`).toBe('/containers/a%2Fb%3Fc/x');
    expect(() => urlPath`/containers/${'..'}`).toThrow(/cannot be used/);
    for (const bad of ['/a/../b', '/a/%2E%2e/b', '/a?x=1', '//evil.com/a', 'a/b', '/a#f', '/a b', '/a/./b']) expect(() => safePath(bad), bad).toThrow();
    expect(safePath('/api/v1/files/home/user/%2E%2Ex')).toBe('/api/v1/files/home/user/%2E%2Ex');
  });
});

describe('limits as configuration', () => {
  it('a call whose arguments are over --max-arg-bytes is refused naming the limit', async () => {
    const c = await connectInproc(t.sim, { args: ['--container', t.sim.containerId, '--max-arg-bytes', '2k'] });
    try {
      const r = await call(c.client, 'file_write', { path: '/home/user/limit.txt', content: 'x'.repeat(4000) });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/arguments of 3\.9 KiB are over the 2 KiB limit \(--max-arg-bytes \/ HOODY_MAX_ARG_BYTES raises it\)/);
      expect((await call(c.client, 'file_write', { path: '/home/user/limit.txt', content: 'small' })).isError).toBe(false);
    } finally {
      await c.close();
    }
  });

  it('per-credential concurrency and rate are refused naming their flags', async () => {
    const c = await connectInproc(t.sim, { args: ['--container', t.sim.containerId, '--max-concurrency', '1', '--rate-limit', '3'] });
    try {
      const slow = call(c.client, 'exec_run', { command: 'sleep 1', wait_s: 5 });
      await new Promise((r) => setImmediate(r));
      const busy = await call(c.client, 'project_list');
      expect(busy.text).toMatch(/1 calls are already running for this credential.*--max-concurrency \/ HOODY_MAX_CONCURRENCY/);
      expect((await slow).isError).toBe(false);
      expect((await call(c.client, 'project_list')).isError).toBe(false);
      expect((await call(c.client, 'project_list')).isError).toBe(false); // the third start this minute
      const limited = await call(c.client, 'project_list');
      expect(limited.isError).toBe(true);
      expect(limited.text).toMatch(/rate limit of 3 calls a minute.*--rate-limit \/ HOODY_RATE_LIMIT raises it.*retry in \d+ s/);
    } finally {
      await c.close();
    }
  });
});

describe('secret hygiene', () => {
  it('exec_run secret_env values are redacted from the result and from progress', async () => {
    const secret = 'sk-live-0123456789abcdef';
    const progress: string[] = [];
    const r = await call(
      t.c.client,
      'exec_run',
      { command: 'echo "key=$API_KEY"; sleep 1; echo "again $API_KEY"', env: { API_KEY: secret }, secret_env: ['API_KEY'], wait_s: 10 },
      { onprogress: (p) => void progress.push(p.message ?? '') },
    );
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toMatch(/key=\[redacted\]/);
    expect(JSON.stringify(r) + progress.join('\n')).not.toContain(secret);
    expect(progress.join('\n')).toMatch(/\[redacted\]/);
    const bad = await call(t.c.client, 'exec_run', { command: 'true', env: { A: 'x' }, secret_env: ['A'] });
    expect(bad.text).toMatch(/too short to redact/);
    expect((await call(t.c.client, 'exec_run', { command: 'true', secret_env: ['NOPE'] })).text).toMatch(/secret_env names NOPE, which env does not set/);
  });

  it('the token and kit URLs never come back; container_get keeps its links', async () => {
    const printed = await call(t.c.client, 'exec_run', { command: `echo "token ${t.sim.token} jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"` });
    expect(printed.text).not.toContain(t.sim.token);
    expect(printed.text).toMatch(/token \[redacted\] jwt \[redacted\]/);
    const got = await call(t.c.client, 'container_get', {});
    const link = (got.structured!.links as Record<string, string>).files!;
    expect(link).toMatch(/^https?:\/\/[0-9a-f]{24}-[0-9a-f]{24}-files-1\./);
    expect(got.text).toContain(link);
    await call(t.c.client, 'file_write', { path: '/home/user/leak.txt', content: `see ${link}api/v1/files/etc/passwd and ${new URL(link).host}` });
    const read = await call(t.c.client, 'file_read', { path: '/home/user/leak.txt' });
    expect(read.text).not.toContain(new URL(link).host);
    expect(read.text).toMatch(/see \[kit URL hidden\] and \[kit URL hidden\]/);
    // A user-service URL (a port's http-<n> host) is meant to be shared: it stays.
    const service = link.replace(/-files-1\./, '-http-8080.');
    const shown = await call(t.c.client, 'exec_run', { command: `echo ${service}` });
    expect(shown.text).toContain(service);
  });
});
