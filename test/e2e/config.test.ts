/** Start-up configuration of the built server: toolsets, filters, read-only, unknown names, size of tools/list. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { CLI, call, connectStdio, simFor } from '../helpers/harness.js';

let sim: Sim;
beforeAll(async () => {
  sim = await simFor();
});
afterAll(() => sim?.close());

const names = async (args: string[]) => {
  const c = await connectStdio(sim, { args });
  try {
    return (await c.client.listTools()).tools.map((t) => t.name);
  } finally {
    await c.close();
  }
};

describe('tool selection', () => {
  it('offers the built toolsets by default', async () => {
    const n = await names([]);
    expect(n).toEqual([
      'project_list', 'container_list', 'container_get', 'container_create', 'container_action', 'container_delete', 'container_snapshot',
      'exec_run', 'exec_status', 'exec_input', 'exec_cancel',
      'file_read', 'file_write', 'file_edit', 'file_list', 'file_search', 'file_manage', 'file_delete', 'file_watch', 'file_transfer',
      'browser_navigate', 'browser_snapshot', 'browser_screenshot', 'browser_act', 'browser_eval', 'browser_tabs', 'browser_logs',
      'display_screenshot', 'display_act', 'display_windows',
      'agent_run', 'agent_reply', 'agent_status', 'agent_cancel', 'agent_sessions',
      'service_start', 'service_list', 'service_logs', 'service_stop', 'port_url',
    ]);
  });

  it('--read-only keeps only read tools (and read actions), and they still work', async () => {
    const n = await names(['--read-only']);
    expect(n).toEqual(['project_list', 'container_list', 'container_get', 'container_snapshot', 'exec_status', 'file_read', 'file_list', 'file_search', 'file_watch', 'browser_snapshot', 'browser_screenshot', 'browser_tabs', 'browser_logs', 'display_screenshot', 'display_windows', 'agent_status', 'agent_sessions', 'service_list', 'service_logs', 'port_url']);
    const c = await connectStdio(sim, { args: ['--read-only'] });
    try {
      await expect(call(c.client, 'exec_run', { container: sim.containerId, command: 'touch /home/user/x' })).rejects.toThrow(/exec_run not found/);
      const r = await call(c.client, 'file_list', { container: sim.containerId, path: '/home/user' });
      expect(r.isError, r.text).toBe(false);
      const snap = (await c.client.listTools()).tools.find((t) => t.name === 'container_snapshot')!;
      expect((snap.inputSchema.properties as Record<string, { enum?: string[] }>).action!.enum).toEqual(['list']);
      expect(snap.annotations).toEqual({ readOnlyHint: true });
      const tabs = (await c.client.listTools()).tools.find((t) => t.name === 'browser_tabs')!;
      expect((tabs.inputSchema.properties as Record<string, { enum?: string[] }>).action!.enum).toEqual(['list']);
      const list = await call(c.client, 'container_snapshot', { container: sim.containerId, action: 'list' });
      expect(list.isError, list.text).toBe(false);
      const snapshotPosts = () => sim.requests.filter((q) => q.method === 'POST' && q.path.includes('snapshot')).length;
      const before = snapshotPosts();
      const create = await call(c.client, 'container_snapshot', { container: sim.containerId, action: 'create' }).catch((e: Error) => ({ isError: true, text: e.message }));
      expect(create.isError).toBe(true);
      expect(create.text).toMatch(/list/);
      expect(snapshotPosts()).toBe(before);
    } finally {
      await c.close();
    }
  });

  it('--toolsets, --tools, --exclude-tools (and env twins)', async () => {
    expect(await names(['--toolsets', 'files', '--exclude-tools', 'file_transfer,file_delete'])).toEqual([
      'file_read', 'file_write', 'file_edit', 'file_list', 'file_search', 'file_manage', 'file_watch',
    ]);
    expect(await names(['--tools', 'exec_run,file_read'])).toEqual(['exec_run', 'file_read']);
    const c = await connectStdio(sim, { env: { HOODY_TOOLSETS: 'exec' } });
    expect((await c.client.listTools()).tools.map((t) => t.name)).toEqual(['exec_run', 'exec_status', 'exec_input', 'exec_cancel']);
    await c.close();
  });

  it('unknown names fail at start with exit code 2 and a clear message', () => {
    for (const args of [['--tools', 'nope'], ['--toolsets', 'bogus'], ['--frobnicate']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/hoody-mcp: unknown/);
    }
  });

  it('--version prints the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('--help lists every flag with its env twin', () => {
    const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    for (const s of ['--token', 'HOODY_TOKEN', '--api-url', '--realm', '--container', '--toolsets', '--tools', '--exclude-tools', '--read-only', '--http', '--port', '--host', '--sim']) {
      expect(r.stdout).toContain(s);
    }
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(100);
  });

  it('without a token, tools say how to provide one', async () => {
    const c = await connectStdio(sim, { env: { HOODY_TOKEN: '' } });
    try {
      const r = await call(c.client, 'project_list');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/no Hoody token — set HOODY_TOKEN or pass --token/);
      // Listing at connect (as Codex does) still works: it lists what it can.
      const listed = await c.client.listResources();
      expect(listed.resources.map((x) => x.uri)).toContain('hoody://containers');
      expect((await c.client.listPrompts()).prompts.map((p) => p.name)).toEqual(['delegate_to_agent']);
    } finally {
      await c.close();
    }
  });
});

describe('context cost', () => {
  it('tools/list for containers, exec and files costs at most 3,500 tokens (JSON bytes / 4)', async () => {
    const c = await connectStdio(sim, { args: ['--toolsets', 'containers,exec,files'] });
    try {
      const { tools } = await c.client.listTools();
      const bytes = Buffer.byteLength(JSON.stringify(tools));
      expect(bytes / 4).toBeLessThanOrEqual(3500);
      for (const t of tools) expect(t.inputSchema.type).toBe('object');
    } finally {
      await c.close();
    }
  });
});

describe('--sim, as the README runs it', () => {
  it('starts the simulator in-process, says so, and every tool works without a container argument', async () => {
    const { Client } = await import('@modelcontextprotocol/client');
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, '--sim'], env: { PATH: process.env.PATH ?? '' }, stderr: 'pipe' });
    let err = '';
    transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const client = new Client({ name: 'sim-test', version: '0' });
    await client.connect(transport);
    try {
      const r = await call(client, 'exec_run', { command: 'echo from-sim > /home/user/s.txt; cat /home/user/s.txt' });
      expect(r.text).toMatch(/^exit 0[\s\S]*from-sim/);
      const f = await call(client, 'file_read', { path: '/home/user/s.txt' });
      expect(f.text).toBe('     1\tfrom-sim');
      expect(err).toMatch(/simulator at http:\/\/api\.localhost:\d+: project [0-9a-f]{24}, container "[^"]+" \([0-9a-f]{24}\) running, default container set\. Commands run for real as \S+ inside \S+/);
      expect(err).not.toMatch(/hdy_/);
    } finally {
      await client.close();
    }
  });
});

describe('stdio survives bad input', () => {
  it('answers valid requests after garbage lines and malformed messages', async () => {
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, [CLI], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const init = { jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } };
    p.stdin.write('garbage\n{"jsonrpc":"2.0","id":1}\n[1,2\n');
    p.stdin.write(`${JSON.stringify(init)}\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n`);
    p.stdin.write('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"file_read","arguments":"x"}}\n{"jsonrpc":"2.0","id":4,"method":"ping"}\n');
    const deadline = Date.now() + 10_000;
    while (!out.includes('"id":4') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    p.stdin.end();
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { id?: number; result?: unknown; error?: { code: number } });
    expect(lines.find((l) => l.id === 2)?.result).toBeDefined();
    expect(lines.find((l) => l.id === 3)?.error?.code).toBe(-32602);
    expect(lines.find((l) => l.id === 4)?.result).toEqual({});
  });
});
