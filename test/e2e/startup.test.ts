/**
 * Start-up loads only what the first requests need and touches no network: initialize and
 * tools/list are answered while the API host (a TCP listener that counts connections) is never
 * contacted.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnce } from '../bench/startup.js';
import { CLI } from '../helpers/harness.js';

let server: net.Server;
let connections = 0;
beforeAll(async () => {
  server = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('start-up', () => {
  it('answers initialize and tools/list without any network request', async () => {
    const port = (server.address() as AddressInfo).port;
    const r = await startOnce({
      name: 'hoody-mcp',
      command: process.execPath,
      args: [CLI],
      env: { HOODY_TOKEN: 'hdy_x', HOODY_API_URL: `http://api.localhost:${port}`, HOODY_CONTAINER: 'web' },
    });
    expect(r.tools).toBeGreaterThan(10);
    expect(connections).toBe(0);
  });
});
