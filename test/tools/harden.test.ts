/**
 * Hostile input in process (issue 17): each numbered defect reproduced against the real server
 * factory and one simulator.
 */
import { describe, expect, it } from 'vitest';
import { safePath, urlPath } from '../../src/core/paths.js';
import { call, useInproc } from '../helpers/inproc.js';

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
