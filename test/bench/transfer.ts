/**
 * file_transfer of a large file (default 1 GiB) each way through MCP, beside a direct undici
 * stream to the same files kit, and the server process's peak RSS (VmHWM) after both (run.ts
 * gives the transfer a server of its own, so the peak is the transfer's).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Client } from '@modelcontextprotocol/client';
import { request } from '../../src/core/http.js';
import type { Sim } from '../../src/sim/index.js';
import { round, rssOf, timed } from './stats.js';

async function makeFile(path: string, bytes: number): Promise<void> {
  const f = await open(path, 'w');
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i); // not all zeros
  try {
    for (let done = 0; done < bytes; done += chunk.length) await f.write(chunk, 0, Math.min(chunk.length, bytes - done));
  } finally {
    await f.close();
  }
}

export async function transfer(client: Client, serverPid: number | null, sim: Sim, mb: number) {
  const bytes = mb * 1024 * 1024;
  const dir = join(tmpdir(), `hoody-bench-${process.pid}`);
  const local = join(dir, 'big.bin');
  await rm(dir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await makeFile(local, bytes);
  const kit = sim.kitUrl(sim.containerId, 'files');
  const mcp = async (direction: 'upload' | 'download', localPath: string, remote: string) => {
    const r = await client.callTool({ name: 'file_transfer', arguments: { direction, local_path: localPath, remote_path: remote } }, { timeout: 600_000 });
    if (r.isError) throw new Error(JSON.stringify(r.content).slice(0, 300));
  };
  try {
    const up = await timed(() => mcp('upload', local, '/home/user/big-mcp.bin'));
    const upDirect = await timed(async () => {
      const res = await request({ method: 'PUT', url: new URL('/api/v1/files/home/user/big-direct.bin', kit), source: 'files', body: createReadStream(local), headers: { 'content-type': 'application/octet-stream' } });
      await res.body.text();
    });
    const down = await timed(() => mcp('download', join(dir, 'down-mcp.bin'), '/home/user/big-mcp.bin'));
    const downDirect = await timed(async () => {
      const res = await request({ method: 'GET', url: new URL('/api/v1/files/home/user/big-direct.bin', kit), source: 'files' });
      await pipeline(res.body, createWriteStream(join(dir, 'down-direct.bin')));
    });
    if ((await stat(join(dir, 'down-mcp.bin'))).size !== bytes) throw new Error('download through MCP has the wrong size');
    const mbps = (ms: number) => round(mb / (ms / 1000), 1);
    return {
      mib: mb,
      upload: { mcp_mib_s: mbps(up), direct_mib_s: mbps(upDirect), of_direct: round(upDirect / up) },
      download: { mcp_mib_s: mbps(down), direct_mib_s: mbps(downDirect), of_direct: round(downDirect / down) },
      server_peak_rss_mb: serverPid ? rssOf(serverPid)?.peak_mb : undefined,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    for (const p of ['/home/user/big-mcp.bin', '/home/user/big-direct.bin']) await rm(sim.containerPath(sim.containerId, p), { force: true });
  }
}
