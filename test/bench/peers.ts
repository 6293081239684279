/**
 * The peers of npm run bench:snapshots, measured on the same pages and the same Debian Chromium
 * (/usr/bin/chromium): Playwright MCP and chrome-devtools-mcp, each spawned as an MCP server over
 * stdio and driven by the official client — navigate to the page, call its snapshot tool, count
 * the text bytes. They live in bench/peers (their own package.json, not the product's
 * dependencies), installed with their browser downloads skipped:
 *   cd bench/peers && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm install
 * A peer that cannot run says why (`error`) instead of a size.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

export const CHROMIUM = '/usr/bin/chromium';
const PEERS = fileURLToPath(new URL('../../../bench/peers/node_modules/', import.meta.url));
const VIEWPORT = '1280x800'; // the simulator's page size
const CALL_TIMEOUT = 90_000;

type Result = Awaited<ReturnType<Client['callTool']>>;
const text = (r: Result) => (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('');

interface Peer {
  id: string;
  pkg: string;
  bin: string;
  args(out: string): string[];
  /** Open the page; returns what the snapshot call needs (chrome-devtools-mcp routes by page id). */
  open(c: Client, url: string): Promise<Record<string, unknown>>;
  snapshot: string;
}

async function must(c: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  const r = await c.callTool({ name, arguments: args }, { timeout: CALL_TIMEOUT });
  if (r.isError) throw new Error(`${name} failed: ${text(r).slice(0, 300)}`);
  return r;
}

const PEER_LIST: Peer[] = [
  {
    id: 'playwright_mcp',
    pkg: '@playwright/mcp',
    bin: '@playwright/mcp/cli.js',
    // --output-dir: navigate saves its snapshot as a file there; --no-sandbox: the bench runs as root
    args: (out) => ['--executable-path', CHROMIUM, '--headless', '--isolated', '--no-sandbox', '--viewport-size', VIEWPORT, '--output-dir', out],
    open: async (c, url) => (await must(c, 'browser_navigate', { url }), {}),
    snapshot: 'browser_snapshot',
  },
  {
    id: 'chrome_devtools_mcp',
    pkg: 'chrome-devtools-mcp',
    bin: 'chrome-devtools-mcp/build/src/bin/chrome-devtools-mcp.js',
    args: () => ['--executablePath', CHROMIUM, '--headless', '--isolated', '--no-usage-statistics', '--viewport', VIEWPORT, '--chrome-arg=--no-sandbox'],
    open: async (c, url) => {
      const pages = text(await must(c, 'list_pages', {}));
      const pageId = Number(/^(\d+):.*\[selected\]/m.exec(pages)?.[1] ?? /^(\d+):/m.exec(pages)?.[1] ?? 1);
      await must(c, 'navigate_page', { type: 'url', url, pageId });
      return { pageId };
    },
    snapshot: 'take_snapshot',
  },
];

export function chromiumVersion(): string {
  try {
    return /Chromium ([\d.]+)/.exec(execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1] ?? 'unknown';
  } catch (e) {
    return `not runnable: ${(e as Error).message.split('\n')[0]}`;
  }
}

export type PeerRun = { version?: string; error?: string; bytes: Record<string, number | null>; ms: Record<string, number> };

/** One peer over all pages: one server process, one browser, pages in order. */
async function runPeer(p: Peer, urls: Record<string, string>): Promise<PeerRun> {
  const run: PeerRun = { bytes: {}, ms: {} };
  const entry = join(PEERS, p.bin);
  if (!existsSync(entry)) {
    run.error = `${p.pkg} is not installed: cd bench/peers && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm install`;
    return run;
  }
  run.version = (JSON.parse(readFileSync(join(PEERS, p.pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const out = mkdtempSync(join(tmpdir(), `bench-${p.id}-`));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, ...p.args(out)],
    cwd: out,
    env: { PATH: process.env.PATH ?? '', HOME: out, CI: '1', CHROME_DEVTOOLS_MCP_NO_UPDATE_CHECKS: '1', CHROME_DEVTOOLS_MCP_NO_USAGE_STATISTICS: '1' },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2_000)));
  const client = new Client({ name: 'hoody-mcp-bench', version: '0' });
  try {
    await client.connect(transport);
    for (const [id, url] of Object.entries(urls)) {
      const extra = await p.open(client, url);
      const t0 = performance.now();
      run.bytes[id] = Buffer.byteLength(text(await must(client, p.snapshot, extra)));
      run.ms[id] = Math.round(performance.now() - t0);
    }
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    run.error = `${p.pkg} could not run: ${why}${err ? ` (stderr: ${err.trim().split('\n').slice(-3).join(' | ')})` : ''}`;
  } finally {
    await client.close().catch(() => undefined);
    rmSync(out, { recursive: true, force: true });
  }
  for (const id of Object.keys(urls)) run.bytes[id] ??= null;
  return run;
}

/** Every peer, one after the other (2 shared cores: never two browsers at once). */
export async function measurePeers(urls: Record<string, string>): Promise<Record<string, PeerRun>> {
  const runs: Record<string, PeerRun> = {};
  for (const p of PEER_LIST) runs[p.id] = await runPeer(p, urls);
  return runs;
}
