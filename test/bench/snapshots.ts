/**
 * npm run bench:snapshots: our browser_snapshot sizes on three committed pages, beside the targets
 * and the peers' sizes the issue measured (Playwright MCP, chrome-devtools-mcp on the same pages and
 * Chromium): a small app page (settings form, 20-row jobs table), a Rust Book chapter and rustdoc's
 * `std::vec::Vec` page (Debian rust-doc 1.63, MIT/Apache-2.0: test/bench/pages/LICENSE-*).
 * Merges `browser_snapshots` into bench-results.json.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { parseConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { startSim } from '../../src/sim/index.js';
import { servePages } from '../helpers/pages.js';

const PAGES = fileURLToPath(new URL('../../../test/bench/pages/', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../../bench-results.json', import.meta.url));

const CASES = [
  { id: 'small_app', path: '/app.html', target: 2_048, peers: '5.0–9.0 KB' },
  { id: 'docs_page', path: '/book/ch04-01-what-is-ownership.html', target: 8_192, peers: '54–74 KB' },
  { id: 'heavy_page', path: '/std/vec/struct.Vec.html', target: 8_192, peers: '740–750 KB' },
];

const sim = await startSim();
const pages = await servePages({ dir: PAGES });
const config = parseConfig(['--container', sim.containerId, '--toolsets', 'browser'], { HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token });
const server = createServer(config, { token: config.token }, { remote: false });
const [a, b] = InMemoryTransport.createLinkedPair();
await server.connect(b);
const client = new Client({ name: 'bench', version: '0' });
await client.connect(a);
const text = (r: Awaited<ReturnType<Client['callTool']>>) => (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('');

const out: Record<string, unknown> = {};
try {
  console.log(`${'page'.padEnd(11)} ${'snapshot'.padStart(9)} ${'target'.padStart(8)} ${'navigate'.padStart(9)}  lines shown/total  peers`);
  for (const c of CASES) {
    const nav = await client.callTool({ name: 'browser_navigate', arguments: { url: pages.url(c.path) } });
    const t0 = performance.now();
    const snap = await client.callTool({ name: 'browser_snapshot', arguments: {} });
    const ms = Math.round(performance.now() - t0);
    const bytes = Buffer.byteLength(text(snap));
    const s = snap.structuredContent as { lines: number; total: number; left: number };
    out[c.id] = { bytes, target: c.target, within: bytes <= c.target, navigate_bytes: Buffer.byteLength(text(nav)), lines: s.lines, total_lines: s.total, elements_left_out: s.left, ms, peers: c.peers };
    console.log(`${c.id.padEnd(11)} ${`${bytes} B`.padStart(9)} ${`${c.target} B`.padStart(8)} ${`${Buffer.byteLength(text(nav))} B`.padStart(9)}  ${`${s.lines}/${s.total}`.padEnd(17)}  ${c.peers}${bytes <= c.target ? '' : '  OVER TARGET'}`);
    if (process.env.BENCH_SHOW === c.id) console.log(text(snap));
  }
} finally {
  await client.close();
  await server.close();
  await pages.close();
  await sim.close();
}
const prev = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
writeFileSync(RESULTS, `${JSON.stringify({ ...prev, browser_snapshots: { at: new Date().toISOString(), ...out } }, null, 2)}\n`);
