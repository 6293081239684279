/**
 * The browser toolset in-process, on the simulator's real Chromium and real pages: a form filled
 * and submitted by refs (the page's own script shows the result); a stale ref refused with nothing
 * clicked; a page larger than the budget read to its end with offset; action replies ≤ 400 bytes;
 * screenshots scaled with a frame; tabs; logs; hostile input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, useInproc } from '../helpers/inproc.js';
import { servePages, type Pages } from '../helpers/pages.js';
import { everyToolChecks } from './catalogue.js';

const t = useInproc();
let pages: Pages;

const FORM = `<!doctype html><title>Sign up</title>
<nav><a href="/">Home</a> <a href="/docs">Docs</a></nav>
<h1>Sign up</h1>
<form id="f">
  <label>Name <input name="name"></label>
  <label>Plan <select name="plan"><option value="free">Free</option><option value="pro">Pro</option></select></label>
  <label><input type="checkbox" name="news"> Newsletter</label>
  <button type="submit">Create account</button>
  <button type="button" id="danger" onclick="window.dangerClicks = (window.dangerClicks || 0) + 1">Delete all</button>
</form>
<p id="out"></p>
<script>
  const seen = [];
  document.querySelector('[name=name]').addEventListener('input', () => seen.push('input'));
  document.querySelector('[name=name]').addEventListener('change', () => seen.push('change'));
  document.getElementById('f').addEventListener('submit', (e) => {
    e.preventDefault();
    const d = new FormData(e.target);
    document.getElementById('out').textContent = 'Welcome ' + d.get('name') + ' on ' + d.get('plan') + (d.get('news') ? ' with news' : '') + ' (' + seen.filter((x, i) => seen.indexOf(x) === i).join('+') + ')';
    console.log('submitted ' + d.get('name'));
  });
</script>`;

const refOf = (snapshot: string, pattern: RegExp) => {
  const line = snapshot.split('\n').flatMap((l) => [...l.matchAll(/\[(e\d+) ([^\]]*)\]/g)]).find((m) => pattern.test(m[2]!));
  if (!line) throw new Error(`no element ${pattern} in:\n${snapshot}`);
  return line[1]!;
};

beforeAll(async () => {
  pages = await servePages();
  pages.set('/form', FORM);
  pages.set('/other', '<!doctype html><title>Other</title><h1>Elsewhere</h1><button onclick="document.title=\'clicked\'">Same place</button>');
  const rows = Array.from({ length: 600 }, (_, i) => `<li><a href="#r${i}">Row ${i}</a> <button>Open ${i}</button> some text for row ${i}</li>`).join('');
  pages.set('/long', `<!doctype html><title>Long</title><h1>Long list</h1><ul>${rows}</ul><p>THE END</p>`);
  pages.set('/logs', `<!doctype html><title>Logs</title><script>console.log('hello from the page'); console.error('bad thing'); fetch('/missing');</script>`);
  pages.set('/noisy', `<!doctype html><title>Noisy</title><button id="n" onclick="alert('a'.repeat(3000)); confirm('c'.repeat(3000)); document.title = 'T'.repeat(5000); history.pushState({}, '', '/noisy?' + 'q'.repeat(3000)); window.open('/other?' + 'z'.repeat(2000)); window.open('/other?' + 'y'.repeat(2000)); window.open('/other?2')">${'N'.repeat(500)}</button>`);
  pages.set('/popup', `<!doctype html><title>Pop</title><a href="/other" target="_blank">Open other</a><button onclick="confirm('Really delete?')">Ask</button>`);
});
afterAll(() => pages?.close());

describe('browser toolset', () => {
  it('fills and submits a form by refs; the page shows its own result', async () => {
    const nav = await call(t.c.client, 'browser_navigate', { url: pages.url('/form') });
    expect(nav.isError, nav.text).toBe(false);
    expect(nav.text).toMatch(/Sign up — http:\/\/127\.0\.0\.1:\d+\/form/);
    const name = refOf(nav.text, /^textbox Name/);
    const plan = refOf(nav.text, /^combobox Plan/);
    const news = refOf(nav.text, /^checkbox Newsletter/);
    const submit = refOf(nav.text, /^Create account/);

    const typed = await call(t.c.client, 'browser_act', { action: 'type', ref: name, text: 'Ada' });
    expect(typed.text).toMatch(/^typed into \[e\d+ textbox Name\] · now = "Ada"/);
    expect((await call(t.c.client, 'browser_act', { action: 'select', ref: plan, text: 'Pro' })).text).toMatch(/now = "Pro"/);
    expect((await call(t.c.client, 'browser_act', { action: 'click', ref: news })).text).toMatch(/now checked/);
    const done = await call(t.c.client, 'browser_act', { action: 'click', ref: submit, snapshot: true });
    expect(done.isError, done.text).toBe(false);
    expect(done.text).toMatch(/Welcome Ada on pro with news \(input\+change\)/);
    // refs are stable across snapshots of one document
    const again = await call(t.c.client, 'browser_snapshot', {});
    expect(refOf(again.text, /^textbox Name/)).toBe(name);
  });

  it('refuses a stale ref after navigation, clicking nothing', async () => {
    const nav = await call(t.c.client, 'browser_navigate', { url: pages.url('/form') });
    const danger = refOf(nav.text, /^Delete all/);
    await call(t.c.client, 'browser_navigate', { url: pages.url('/other') });
    // the other page also has elements; e-numbers may collide, but the document differs
    const r = await call(t.c.client, 'browser_act', { action: 'click', ref: danger });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/from an older page.*nothing was done — call browser_snapshot/);
    const title = await call(t.c.client, 'browser_eval', { script: 'document.title' });
    expect(title.text).toBe('"Other"');
    // back to the form by history: still a new document for the model; the old ref stays refused
    const back = await call(t.c.client, 'browser_act', { action: 'back' });
    expect(back.text).toMatch(/went back · url .*\/form · title "Sign up"/);
    const r2 = await call(t.c.client, 'browser_act', { action: 'click', ref: danger });
    expect(r2.isError).toBe(true);
    expect((await call(t.c.client, 'browser_eval', { script: 'window.dangerClicks ?? 0' })).text).toBe('0');
  });

  it('a page over the budget: says what was left out and continues to its end with offset', async () => {
    const first = await call(t.c.client, 'browser_navigate', { url: pages.url('/long') });
    expect(Buffer.byteLength(first.text)).toBeLessThanOrEqual(3_400);
    let s = await call(t.c.client, 'browser_snapshot', {});
    const seen = new Set<string>();
    let rounds = 0;
    for (;;) {
      expect(Buffer.byteLength(s.text)).toBeLessThanOrEqual(8_192);
      for (const m of s.text.matchAll(/Open (\d+)\]/g)) seen.add(m[1]!);
      const next = (s.structured as { next: number | null }).next;
      if (next === null) break;
      expect(s.text).toMatch(new RegExp(`\\d+ elements in \\d+ more lines left out: offset=${next} continues`));
      s = await call(t.c.client, 'browser_snapshot', { offset: next });
      rounds++;
    }
    expect(rounds).toBeGreaterThan(3);
    expect(seen.size).toBe(600);
    expect(s.text).toMatch(/THE END/);
    const q = await call(t.c.client, 'browser_snapshot', { query: 'Open 599' });
    expect(q.text).toMatch(/\[e\d+ Open 599\]/);
    expect(q.text.split('\n')).toHaveLength(2);
  });

  it('action replies stay under 400 bytes; dialogs and new tabs are reported', async () => {
    await call(t.c.client, 'browser_navigate', { url: pages.url('/popup') });
    const long = 'x'.repeat(5000);
    await call(t.c.client, 'browser_navigate', { url: pages.url('/form') });
    const typed = await call(t.c.client, 'browser_act', { action: 'type', selector: '[name=name]', text: long });
    expect(Buffer.byteLength(typed.text)).toBeLessThanOrEqual(400);
    await call(t.c.client, 'browser_navigate', { url: pages.url('/popup') });
    const ask = await call(t.c.client, 'browser_act', { action: 'click', selector: 'button' });
    expect(ask.text).toMatch(/confirm "Really delete\?" dismissed/);
    const pop = await call(t.c.client, 'browser_act', { action: 'click', selector: 'a' });
    expect(pop.text).toMatch(/new tab \d+ http:\/\/127\.0\.0\.1:\d+\/other/);
    // everything at once, each of it huge: still one short reply
    await call(t.c.client, 'browser_navigate', { url: pages.url('/noisy') });
    const noisy = await call(t.c.client, 'browser_act', { action: 'click', selector: '#n' });
    expect(noisy.text).toMatch(/^clicked \[e\d+ N+…\] · url .*title "T+…" · alert "a+…" dismissed/);
    for (const r of [ask, pop, noisy]) expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(400);
  });

  it('screenshot: scaled image with a frame', async () => {
    await call(t.c.client, 'browser_navigate', { url: pages.url('/form') });
    const r = await call(t.c.client, 'browser_screenshot', {});
    expect(r.isError, r.text).toBe(false);
    const img = r.content.find((c) => c.type === 'image') as { mimeType: string } | undefined;
    expect(img?.mimeType).toBe('image/jpeg');
    const frame = (r.structured as { frame: { id: string; width: number; height: number; scale: number } }).frame;
    expect(frame).toMatchObject({ width: 1280, height: 800, scale: 1 });
    expect(r.text).toContain(frame.id);
    const full = await call(t.c.client, 'browser_screenshot', { full_page: true, format: 'png' });
    expect((full.structured as { frame: { scale: number } }).frame.scale).toBeLessThanOrEqual(1);
  });

  it('tabs: list, new, select, close', async () => {
    const opened = await call(t.c.client, 'browser_tabs', { action: 'new', url: pages.url('/other') });
    expect(opened.text).toMatch(/^opened; \d+ tabs \(\* current\)/);
    const { tabs, current } = opened.structured as { tabs: number[]; current: number };
    expect(tabs).toContain(current);
    const other = tabs.find((x) => x !== current)!;
    const sel = await call(t.c.client, 'browser_tabs', { action: 'select', tab: other });
    expect((sel.structured as { current: number }).current).toBe(other);
    const closed = await call(t.c.client, 'browser_tabs', { action: 'close', tab: current });
    expect((closed.structured as { tabs: number[] }).tabs).not.toContain(current);
    const gone = await call(t.c.client, 'browser_snapshot', { tab: current });
    expect(gone.text).toMatch(/no tab \d+ .* — browser_tabs lists the tabs/);
  });

  it('logs: console and network', async () => {
    await call(t.c.client, 'browser_navigate', { url: pages.url('/logs') });
    const c = await call(t.c.client, 'browser_logs', { kind: 'console' });
    expect(c.text).toMatch(/log: hello from the page/);
    expect(c.text).toMatch(/error: bad thing/);
    const n = await call(t.c.client, 'browser_logs', { kind: 'network', limit: 5 });
    expect(n.text).toMatch(/404 GET http:\/\/127\.0\.0\.1:\d+\/missing/);
  });

  it('hostile input is refused with what to do', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['browser_navigate', { url: 'javascript:alert(1)' }, /javascript: URLs are not allowed/],
      ['browser_navigate', { url: 'file:///etc/passwd' }, /file: URLs are not allowed/],
      ['browser_navigate', { url: 'not a url' }, /is not a URL/],
      ['browser_act', { action: 'click', ref: 'e1"); alert(1); ("' }, /is not a ref/],
      ['browser_act', { action: 'click' }, /click needs ref or selector/],
      ['browser_act', { action: 'click', selector: '##!' }, /invalid selector/],
      ['browser_act', { action: 'click', selector: '#nope' }, /no element matches #nope/],
      ['browser_act', { action: 'type', selector: 'h1', text: 'x' }, /does not take text/],
      ['browser_snapshot', { ref: '../../e1' }, /is not a ref/],
      ['browser_eval', { script: 'throw new Error("boom")' }, /boom/],
      ['browser_tabs', { action: 'close', tab: 999 }, /Tab 999 not found|no tab 999/],
    ];
    await call(t.c.client, 'browser_navigate', { url: pages.url('/other') });
    for (const [tool, args, re] of cases) {
      const r = await call(t.c.client, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}: ${r.text}`).toBe(true);
      expect(r.text).toMatch(re);
    }
    const big = await call(t.c.client, 'browser_eval', { script: "'y'.repeat(200000)" });
    expect(big.text.length).toBeLessThanOrEqual(32_000);
    expect(big.text).toMatch(/cut/);
  });
});

everyToolChecks(t, 'browser');
