/**
 * npm run bench:snapshots: our browser_snapshot sizes on three committed pages, beside the targets,
 * beside Playwright MCP's and chrome-devtools-mcp's measured in the same run on the same pages and
 * the same Chromium (./peers.ts; BENCH_PEERS=0 skips them), and beside the sizes the issue quoted:
 * a small app page (settings form, 20-row jobs table), a Rust Book chapter and rustdoc's
 * `std::vec::Vec` page (Debian rust-doc 1.63, MIT/Apache-2.0: test/bench/pages/LICENSE-*).
 * Merges `browser_snapshots` into bench-results.json (keys merged, peers' sizes under each page).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { parseConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { startSim } from '../../src/sim/index.js';
import { servePages } from '../helpers/pages.js';
import { CHROMIUM, chromiumVersion, measurePeers, type PeerRun } from './peers.js';

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

const out: Record<string, Record<string, unknown>> = {};
const ours: Record<string, number> = {};
let peers: Record<string, PeerRun> = {};
let closing: Promise<void> | undefined;
const closeOurs = () => (closing ??= (async () => {
  await client.close();
  await server.close();
  await sim.close();
})());
try {
  for (const c of CASES) {
    const nav = await client.callTool({ name: 'browser_navigate', arguments: { url: pages.url(c.path) } });
    const t0 = performance.now();
    const snap = await client.callTool({ name: 'browser_snapshot', arguments: {} });
    const ms = Math.round(performance.now() - t0);
    const bytes = (ours[c.id] = Buffer.byteLength(text(snap)));
    const s = snap.structuredContent as { lines: number; total: number; left: number };
    out[c.id] = { bytes, target: c.target, within: bytes <= c.target, navigate_bytes: Buffer.byteLength(text(nav)), lines: s.lines, total_lines: s.total, elements_left_out: s.left, ms, issue_peers: c.peers };
    if (process.env.BENCH_SHOW === c.id) console.log(text(snap));
  }
  await closeOurs(); // our Chromium closes before the peers start theirs
  if (process.env.BENCH_PEERS !== '0') peers = await measurePeers(Object.fromEntries(CASES.map((c) => [c.id, pages.url(c.path)])));
} finally {
  await closeOurs();
  await pages.close();
}

const kb = (b: number | null | undefined) => (b == null ? '—' : b < 10_240 ? `${(b / 1024).toFixed(1)} KB` : `${Math.round(b / 1024)} KB`);
const PEER_NAMES: Record<string, string> = { playwright_mcp: 'Playwright MCP', chrome_devtools_mcp: 'chrome-devtools-mcp' };
console.log(`snapshot text bytes, same pages, same Chromium ${chromiumVersion()} (${CHROMIUM})`);
console.log(`${'page'.padEnd(11)} ${'ours'.padStart(8)} ${'target'.padStart(8)} ${Object.keys(peers).map((p) => PEER_NAMES[p]!.padStart(20)).join(' ')}  lines shown/total  issue's peers`);
for (const c of CASES) {
  const o = out[c.id]!;
  const theirs = Object.values(peers).map((r) => r.bytes[c.id]);
  for (const [p, r] of Object.entries(peers)) o[p] = r.bytes[c.id];
  const smallest = Math.min(...theirs.filter((b): b is number => b != null));
  if (Number.isFinite(smallest)) o.smallest_peer_over_ours = Math.round((smallest / ours[c.id]!) * 10) / 10;
  console.log(
    `${c.id.padEnd(11)} ${kb(ours[c.id]).padStart(8)} ${kb(c.target).padStart(8)} ${theirs.map((b) => kb(b).padStart(20)).join(' ')}  ${`${o.lines}/${o.total_lines}`.padEnd(17)}  ${c.peers}${o.within ? '' : '  OVER TARGET'}${Number.isFinite(smallest) ? `  (×${o.smallest_peer_over_ours} smaller than the smallest peer)` : ''}`,
  );
}
for (const [p, r] of Object.entries(peers)) if (r.error) console.log(`${PEER_NAMES[p]}: ${r.error}`);
const prev = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
const prevSnaps = (prev.browser_snapshots ?? {}) as Record<string, unknown>;
const peerInfo = Object.fromEntries(Object.entries(peers).map(([p, r]) => [p, { version: r.version ?? null, error: r.error ?? null, ms: r.ms }]));
writeFileSync(RESULTS, `${JSON.stringify({ ...prev, browser_snapshots: { ...prevSnaps, at: new Date().toISOString(), chromium: chromiumVersion(), ...out, peers: Object.keys(peers).length ? peerInfo : undefined } }, null, 2)}\n`);
