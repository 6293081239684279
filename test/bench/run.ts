/**
 * npm run bench: speed and size, measured side by side in one run, written to bench-results.json.
 *  - start-up: spawn → initialized (stdio), median, beside a bare SDK v2 server with one tool
 *  - tools/list size for the default toolsets (JSON bytes / 4 ≈ tokens)
 *  - exec_run `true` through MCP vs the same terminal-kit exchange made directly (overhead ratio)
 *  - file_read of a 1,000-line file through MCP vs a direct files-kit GET
 * All against the embedded simulator on loopback.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { request } from '../../src/core/http.js';
import { startSim } from '../../src/sim/index.js';

const CLI = fileURLToPath(new URL('../../bin/cli.js', import.meta.url));
const N = Number(process.env.BENCH_N ?? 15);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const round = (x: number) => Math.round(x * 100) / 100;

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The floor: a bare SDK v2 stdio server with one tool, written to a temp file and started the same way. */
const BARE = `import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod';
serveStdio(() => {
  const s = new McpServer({ name: 'bare', version: '0' });
  s.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return s;
});
`;

async function connect(env: Record<string, string>, script = CLI) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [script], env: { PATH: process.env.PATH ?? '', ...env }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  return client;
}

async function main() {
  const sim = await startSim({});
  const env = { HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token, HOODY_CONTAINER: sim.containerId };
  try {
    const bare = fileURLToPath(new URL('../../../bench-bare-server.mjs', import.meta.url));
    writeFileSync(bare, BARE);
    const startups: number[] = [];
    const bareStartups: number[] = [];
    for (let i = 0; i < Math.min(N, 10); i++) {
      for (const [script, into] of [[CLI, startups], [bare, bareStartups]] as const) {
        let client: Client | undefined;
        into.push(await timed(async () => (client = await connect(env, script))));
        await client!.close();
      }
    }
    rmSync(bare);

    const client = await connect(env);
    const { tools } = await client.listTools();
    const toolsBytes = Buffer.byteLength(JSON.stringify(tools));

    const term = sim.kitUrl(sim.containerId, 'terminal');
    const files = sim.kitUrl(sim.containerId, 'files');
    const mcpExec: number[] = [];
    const directExec: number[] = [];
    for (let i = 0; i < N; i++) {
      mcpExec.push(await timed(() => client.callTool({ name: 'exec_run', arguments: { command: 'true' } })));
      directExec.push(
        await timed(async () => {
          const res = await request({
            method: 'POST',
            url: new URL(`/api/v1/terminal/execute?terminal_id=${30000 + i}&wait=true`, term),
            source: 'terminal',
            body: { command: 'true' },
            idempotent: false,
          });
          await res.body.text();
        }),
      );
    }

    const big = sim.containerPath(sim.containerId, '/home/user/bench.txt');
    await mkdir(dirname(big), { recursive: true });
    await writeFile(big, Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n'));
    const mcpRead: number[] = [];
    const directRead: number[] = [];
    for (let i = 0; i < N; i++) {
      mcpRead.push(await timed(() => client.callTool({ name: 'file_read', arguments: { path: '/home/user/bench.txt' } })));
      directRead.push(
        await timed(async () => {
          const res = await request({ method: 'GET', url: new URL('/api/v1/files/home/user/bench.txt', files), source: 'files' });
          await res.body.text();
        }),
      );
    }
    await client.close();

    const results = {
      at: new Date().toISOString(),
      runs: N,
      startup_to_initialized_ms: { hoody_mcp: round(median(startups)), bare_sdk_server: round(median(bareStartups)), ratio: round(median(startups) / median(bareStartups)) },
      tools_list: { tools: tools.length, bytes: toolsBytes, tokens: Math.round(toolsBytes / 4) },
      exec_run_true_ms: { mcp: round(median(mcpExec)), direct_kit: round(median(directExec)), ratio: round(median(mcpExec) / median(directExec)) },
      file_read_1000_lines_ms: { mcp: round(median(mcpRead)), direct_kit: round(median(directRead)), ratio: round(median(mcpRead) / median(directRead)) },
    };
    writeFileSync('bench-results.json', `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results, null, 2));
  } finally {
    await sim.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
