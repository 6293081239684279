/**
 * file_transfer of a large file (default 1 GiB) each way through MCP, beside a direct undici
 * stream to the same files kit, and the server process's peak RSS (VmHWM) after both (run.ts
 * gives the transfer a server of its own, so the peak is the transfer's). The direct stream runs
 * in a process of its own, as the server does: from the bench's process it would share one
 * thread with the simulator it streams to, and read slower than it is.
 */
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** One direct stream to the files kit, made by a child process that answers how long it took (ms). */
function direct(way: 'up' | 'down', kit: string, localPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['direct-transfer', way, kit, localPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (m: { ms?: number; error?: string }) => (m.error ? reject(new Error(`direct ${way}: ${m.error}`)) : resolve(m.ms!)));
    child.once('exit', (code) => code && reject(new Error(`direct ${way} exited ${code}`)));
  });
}

if (process.argv[2] === 'direct-transfer') {
  const [way, kit, localPath] = process.argv.slice(3) as ['up' | 'down', string, string];
  const url = new URL('/api/v1/files/home/user/big-direct.bin', kit);
  timed(async () => {
    if (way === 'up') {
      const res = await request({ method: 'PUT', url, source: 'files', body: createReadStream(localPath), headers: { 'content-type': 'application/octet-stream' } });
      await res.body.text();
    } else {
      const res = await request({ method: 'GET', url, source: 'files' });
      await pipeline(res.body, createWriteStream(localPath));
    }
  }).then(
    (ms) => process.send!({ ms }, () => process.exit(0)),
    (err: Error) => process.send!({ error: err.message }, () => process.exit(1)),
  );
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
    const upDirect = await direct('up', kit, local);
    const down = await timed(() => mcp('download', join(dir, 'down-mcp.bin'), '/home/user/big-mcp.bin'));
    const downDirect = await direct('down', kit, join(dir, 'down-direct.bin'));
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
