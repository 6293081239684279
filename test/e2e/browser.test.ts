/**
 * The browser toolset through the built binary, over stdio and over HTTP (one simulator, one
 * Chromium, one page server for the file; the same scenarios on each transport): a form filled
 * and submitted by refs with the page's own script showing the result; a stale ref refused with
 * nothing clicked on the new page (every button there counts its clicks); a page over the
 * snapshot budget read to its end with offset; every browser_act reply ≤ 400 bytes; tools/list for
 * browser + display within its token budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, connectHttp, connectStdio, simFor, startHttpServer, type Connected, type HttpServer, type ToolCall } from '../helpers/harness.js';
import { servePages, type Pages } from '../helpers/pages.js';

/** A sign-up form whose own script writes the result; `counted` makes every button count its clicks. */
const form = (title: string, counted: boolean) => `<!doctype html><title>${title}</title>
<h1>${title}</h1>
<form id="f">
  <label>Name <input name="name"></label>
  <label>Plan <select name="plan"><option value="free">Free</option><option value="pro">Pro</option></select></label>
  <label><input type="checkbox" name="news"> Newsletter</label>
  <button type="submit">Create account</button>
  <button type="button" id="danger">Delete all</button>
</form>
<p id="out"></p>
<script>
  window.clicks = 0;
  ${counted ? "document.querySelectorAll('button').forEach((b) => b.addEventListener('click', () => window.clicks++));" : ''}
  document.getElementById('f').addEventListener('submit', (e) => {
    e.preventDefault();
    const d = new FormData(e.target);
    document.getElementById('out').textContent = 'Welcome ' + d.get('name') + ' on ' + d.get('plan') + (d.get('news') ? ' with news' : '');
  });
</script>`;

const ROWS = 600;
const LONG = `<!doctype html><title>Long</title><h1>Long list</h1><ul>${Array.from({ length: ROWS }, (_, i) => `<li><a href="#r${i}">Row ${i}</a> <button>Open ${i}</button> text of row ${i}</li>`).join('')}</ul><p>THE END</p>`;
const NOISY = `<!doctype html><title>Noisy</title><button id="n" onclick="alert('a'.repeat(3000)); document.title = 'T'.repeat(5000); history.pushState({}, '', '/noisy?' + 'q'.repeat(3000)); window.open('/long?' + 'z'.repeat(2000))">${'N'.repeat(500)}</button>`;

const refOf = (snapshot: string, pattern: RegExp) => {
  const m = [...snapshot.matchAll(/\[(e\d+) ([^\]]*)\]/g)].find((x) => pattern.test(x[2]!));
  if (!m) throw new Error(`no element ${pattern} in:\n${snapshot}`);
  return m[1]!;
};

let sim: Sim;
let pages: Pages;
let http: HttpServer;
const ARGS = () => ['--container', sim.containerId, '--toolsets', 'browser,display'];
beforeAll(async () => {
  [sim, pages] = await Promise.all([simFor(), servePages()]);
  pages.set('/form', form('Sign up', false));
  pages.set('/form-again', form('Sign up again', true));
  pages.set('/long', LONG);
  pages.set('/noisy', NOISY);
  http = await startHttpServer(sim, { args: ARGS() });
});
afterAll(async () => {
  await http?.close();
  await pages?.close();
  await sim?.close();
});

describe.each(['stdio', 'http'] as const)('browser over %s', (transport) => {
  let c: Connected;
  beforeAll(async () => {
    c = transport === 'stdio' ? await connectStdio(sim, { args: ARGS() }) : await connectHttp(http.url, sim.token);
  });
  afterAll(() => c?.close());
  const tool = async (name: string, args: Record<string, unknown>) => {
    const r = await call(c.client, name, args);
    expect(r.isError, `${name} ${JSON.stringify(args)}: ${r.text}`).toBe(false);
    return r;
  };
  /** Every browser_act reply in this file goes through here: ≤ 400 bytes, whatever happened. */
  const act = async (args: Record<string, unknown>, expectError = false): Promise<ToolCall> => {
    const r = await call(c.client, 'browser_act', args);
    expect(r.isError, r.text).toBe(expectError);
    expect(Buffer.byteLength(r.text), r.text).toBeLessThanOrEqual(400);
    return r;
  };
  const evaluate = async (script: string) => (await tool('browser_eval', { script })).text;

  it('tools/list for browser + display costs ≤ 1,700 tokens (JSON bytes / 4, as npm run tools:size counts)', async () => {
    const { tools } = await c.client.listTools();
    expect(tools.map((x) => x.name.split('_')[0]).sort()).toEqual([...Array(7).fill('browser'), ...Array(3).fill('display')]);
    expect(Buffer.byteLength(JSON.stringify(tools)) / 4).toBeLessThanOrEqual(1_700);
  });

  it('fills and submits a form by refs; the page shows its own result', async () => {
    const nav = await tool('browser_navigate', { url: pages.url('/form') });
    const [name, plan, news, submit] = [/^textbox Name/, /^combobox Plan/, /^checkbox Newsletter/, /^Create account/].map((re) => refOf(nav.text, re));
    expect((await act({ action: 'type', ref: name, text: 'Ada' })).text).toMatch(/^typed into \[e\d+ textbox Name\] · now = "Ada"/);
    expect((await act({ action: 'select', ref: plan, text: 'Pro' })).text).toMatch(/now = "Pro"/);
    expect((await act({ action: 'click', ref: news })).text).toMatch(/now checked/);
    await act({ action: 'click', ref: submit });
    const snap = await tool('browser_snapshot', {});
    expect(snap.text).toContain('Welcome Ada on pro with news');
    expect(await evaluate("document.getElementById('out').textContent")).toBe('"Welcome Ada on pro with news"');
  });

  it('refuses a stale ref after navigation and clicks nothing on the new page', async () => {
    const first = await tool('browser_navigate', { url: pages.url('/form') });
    const danger = refOf(first.text, /^Delete all/);
    const second = await tool('browser_navigate', { url: pages.url('/form-again') });
    expect(refOf(second.text, /^Delete all/)).not.toBe(danger); // a tab never reuses a ref number across documents
    const r = await act({ action: 'click', ref: danger }, true);
    expect(r.text).toMatch(/from an older page.*nothing was done/);
    expect(await evaluate('window.clicks')).toBe('0');
    expect(await evaluate('document.title')).toBe('"Sign up again"');
  });

  it('a page over the snapshot budget is continued with offset to its end', async () => {
    await tool('browser_navigate', { url: pages.url('/long') });
    const seen = new Set<string>();
    let s = await tool('browser_snapshot', {});
    let rounds = 0;
    for (;;) {
      expect(Buffer.byteLength(s.text)).toBeLessThanOrEqual(8_192);
      for (const m of s.text.matchAll(/\[e\d+ Open (\d+)\]/g)) seen.add(m[1]!);
      const next = (s.structured as { next: number | null }).next;
      if (next === null) break;
      expect(s.text).toMatch(new RegExp(`\\d+ elements in \\d+ more lines left out: offset=${next} continues`));
      s = await tool('browser_snapshot', { offset: next });
      expect(++rounds).toBeLessThan(50);
    }
    expect(rounds).toBeGreaterThan(2);
    expect(seen.size).toBe(ROWS);
    expect(s.text).toMatch(/THE END/);
  });

  it('an action that sets off everything at once, each of it huge, still replies in ≤ 400 bytes', async () => {
    await tool('browser_navigate', { url: pages.url('/noisy') });
    const r = await act({ action: 'click', selector: '#n' });
    expect(r.text).toMatch(/^clicked \[e\d+ N+…\] · url .*title "T+…" · alert "a+…" dismissed.*new tab/);
    for (const a of [{ action: 'hover', selector: '#n' }, { action: 'press', key: 'Tab' }, { action: 'scroll', direction: 'down' }, { action: 'reload' }]) await act(a);
    await act({ action: 'type', selector: 'button', text: 'x' }, true); // an error reply is bounded too
  });
});
