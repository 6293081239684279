/**
 * Every call has a deadline: a kit that accepts the connection and never answers must not hold a
 * read past 25 s, whatever the per-attempt timeouts and retries would add up to.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HoodyError } from '../../src/core/errors.js';
import { Hoody } from '../../src/core/hoody.js';

let hang: net.Server;
const sockets = new Set<net.Socket>();
let port: number;

beforeAll(async () => {
  // Accepts, reads, never writes a byte.
  hang = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  port = (hang.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => hang.close(() => r()));
});

const CONTAINER = {
  id: '0123456789abcdef01234567',
  project_id: '89abcdef0123456789abcdef',
  name: 'hung-box',
  status: 'running',
  server_name: 'node-1',
};

describe('deadline', () => {
  it('a read from a kit that never answers fails within 30 s, saying what hung and what to do', async () => {
    const h = new Hoody({ apiUrl: `http://api.localhost:${port}` }, 'hdy_test');
    h.resolver.remember(CONTAINER); // the kit URL is known: only the files kit is asked
    const t0 = Date.now();
    const err = await h.files.stat(CONTAINER.id, '/etc/hostname').then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(HoodyError);
    expect(err).toMatchObject({ kind: 'timeout', source: 'files' });
    expect((err as HoodyError).message).toMatch(
      new RegExp(`^the files kit of container ${CONTAINER.id} did not answer GET /api/v1/files/stat/etc/hostname within 25 s$`),
    );
    expect((err as HoodyError).message).not.toContain(String(port));
    expect(elapsed).toBeLessThan(30_000);
    expect(elapsed).toBeGreaterThanOrEqual(24_000);
  }, 40_000);
});
