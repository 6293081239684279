/**
 * Start-up, side by side: spawn → `tools/list` answered over stdio (plain JSON-RPC lines, so every
 * server is measured the same way), median of N, the servers taking turns within each round so a
 * busy machine weighs on all of them alike. Peers come from bench/peers (npm run bench:peers).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, round } from './stats.js';

export interface Server {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

const INIT = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } };

/** One start: ms from spawn until the tools/list answer (and how many tools it listed). */
export function startOnce(s: Server, timeoutMs = 30_000): Promise<{ ms: number; tools: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn(s.command, s.args, { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...s.env } });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${s.name}: no tools/list answer within ${timeoutMs} ms`));
    }, timeoutMs);
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        let m: { id?: number; result?: { tools?: unknown[] } };
        try {
          m = JSON.parse(line);
        } catch {
          continue; // a banner line
        }
        if (m.id === 1) p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
        if (m.id === 2) {
          const ms = performance.now() - t;
          clearTimeout(timer);
          p.kill('SIGKILL');
          resolve({ ms, tools: m.result?.tools?.length ?? 0 });
        }
      }
    });
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.stdin.on('error', () => undefined);
    p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT })}\n`);
  });
}

/** The peers installed in bench/peers, each started the way its README says (no browser is launched by tools/list). */
export function peers(root: string): Server[] {
  const dir = join(root, 'bench', 'peers', 'node_modules');
  const bin = (pkg: string) => {
    const file = join(dir, pkg, 'package.json');
    if (!existsSync(file)) return undefined;
    const b = (JSON.parse(readFileSync(file, 'utf8')) as { bin?: string | Record<string, string> }).bin;
    const rel = typeof b === 'string' ? b : b ? Object.values(b)[0] : undefined;
    return rel ? join(dir, pkg, rel) : undefined;
  };
  const list: [string, string, string[]][] = [
    ['@modelcontextprotocol/server-filesystem', 'server-filesystem', [root]],
    ['@playwright/mcp', 'playwright-mcp', ['--headless']],
    ['chrome-devtools-mcp', 'chrome-devtools-mcp', ['--headless']],
    ['@wonderwhy-er/desktop-commander', 'desktop-commander', []],
  ];
  return list.flatMap(([pkg, name, args]) => {
    const b = bin(pkg);
    return b ? [{ name, command: process.execPath, args: [b, ...args] }] : [];
  });
}

export async function startupSideBySide(servers: Server[], n: number) {
  const times = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  const tools = new Map<string, number>();
  const failed = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    for (const s of servers) {
      if (failed.has(s.name)) continue;
      try {
        const r = await startOnce(s);
        times.get(s.name)!.push(r.ms);
        tools.set(s.name, r.tools);
      } catch (err) {
        failed.set(s.name, (err as Error).message);
      }
    }
  }
  const ours = median(times.get('hoody-mcp') ?? []);
  return Object.fromEntries(
    servers.map((s) => {
      const m = median(times.get(s.name)!);
      return [s.name, failed.has(s.name) ? { error: failed.get(s.name) } : { median_ms: round(m, 1), min_ms: round(Math.min(...times.get(s.name)!), 1), tools: tools.get(s.name), ratio_to_hoody_mcp: round(m / ours) }];
    }),
  );
}
