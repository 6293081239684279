/**
 * Start-up loads only what the first requests need and touches no network: initialize and
 * tools/list are answered while the API host (a TCP listener that counts connections) is never
 * contacted.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

function rpc(port: number): Promise<{ tools: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { PATH: process.env.PATH ?? '', HOODY_TOKEN: 'hdy_x', HOODY_API_URL: `http://api.localhost:${port}`, HOODY_CONTAINER: 'web' },
    });
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const m = JSON.parse(line) as { id?: number; result?: { tools?: unknown[] } };
        if (m.id === 1) {
          p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
        } else if (m.id === 2) {
          p.stdin.end();
          resolve({ tools: m.result?.tools?.length ?? 0 });
        }
      }
    });
    p.on('error', reject);
    const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } };
    p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: init })}\n`);
  });
}

describe('start-up', () => {
  it('answers initialize and tools/list without any network request', async () => {
    const r = await rpc((server.address() as AddressInfo).port);
    expect(r.tools).toBeGreaterThan(10);
    expect(connections).toBe(0);
  });
});
