/**
 * browser kit client (seed-kits-browser-display.md §1). Routes sit at the kit's root; the instance
 * key is `browser_port`, not `browser_id` [S:3676], so every call sends both; every call but
 * `/start` sends `start=false` (endpoints auto-create, headful by default, which fails without a
 * display [S:3677], [S:3699]); the instance is started headless once and again if it was reaped
 * (idle for an hour [S:3683]). `/eval` runs in the last active tab [R:35464]: a tab is made active
 * by `browse` with `onlyIfNotExists` at its own URL (no reload). Snapshots and actions are scripts
 * run through `/eval` (browser-page.ts); the client remembers each tab's last snapshotted document
 * so a ref from an older one is refused, never resolved in the new page.
 */
import { HoodyError } from '../errors.js';
import { header, readJson, type HttpResponse } from '../http.js';
import type { Kits } from '../kits.js';
import { Lru } from '../lru.js';
import { actScript, probeScript, snapshotScript, type ActArgs } from './browser-page.js';

/** The instance this server drives (browser-1 ↔ 30000+1 [S:3669]). */
export const BROWSER_PORT = 30001;
const BROWSER_ID = 'hoody-mcp';
const VIEWPORT = '{"width":1280,"height":800,"deviceScaleFactor":1}';
const MAX_SCREENSHOT_BYTES = 40 * 1024 * 1024;
export const MAX_SCRIPT_CHARS = 100_000;

export interface Tab {
  id: number;
  url: string;
  active: boolean;
}
export interface Snapshot {
  tab: number;
  url: string;
  title: string;
  lines: string[];
  offset: number;
  /** The offset that continues, or null at the end. */
  next: number | null;
  /** Lines in all (after query/ref), and elements (refs, headings) not shown. */
  total: number;
  left: number;
}
export interface ActResult {
  tab: number;
  label: string;
  state: string;
  url: string;
  title: string;
  urlBefore: string;
  titleBefore: string;
  navigated: boolean;
  dialogs: { type: string; message: string }[];
  newTabs: Tab[];
}
export interface LogEntry {
  timestamp?: string;
  type?: string;
  text?: string;
  method?: string;
  url?: string;
  status?: number;
  resourceType?: string;
  tabId?: number;
}

const REF = /^e\d{1,7}$/;
const bad = (message: string, hint?: string) => new HoodyError({ kind: 'bad_request', source: 'browser', message, hint });
const snapshotAgain = (message: string) => new HoodyError({ kind: 'conflict', source: 'browser', message, next: { code: 'snapshot_again' } });

/** Only web pages: no javascript:, file:, chrome: or data: URLs reach the browser. */
export function pageUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw bad(`"${url.slice(0, 100)}" is not a URL`, 'pass an absolute http(s) URL');
  }
  if (!['http:', 'https:'].includes(u.protocol) && u.href !== 'about:blank') throw bad(`${u.protocol} URLs are not allowed`, 'pass an http(s) URL');
  if (u.href.length > 8192) throw bad('the URL is longer than 8192 characters');
  return u.href;
}

export class BrowserKit {
  readonly #started = new Lru<number>(500);
  /**
   * `${container}:${tab}:${ref}` → the document the ref was printed from, and `${container}:${tab}`
   * → the highest ref number printed in that tab (a new document numbers its refs after it, so a
   * number never means two elements of one tab).
   */
  readonly #refs = new Lru<string>(50_000);
  readonly #maxRef = new Lru<number>(2000);

  constructor(private readonly kits: Kits) {}

  private send(c: string, init: { method: string; path: string; query?: Record<string, unknown>; body?: unknown; signal?: AbortSignal; idempotent?: boolean }): Promise<HttpResponse> {
    const query = { browser_id: BROWSER_ID, browser_port: BROWSER_PORT, ...(init.path === '/start' ? {} : { start: 'false' }), ...init.query };
    return this.kits.request(c, 'browser', { ...init, query, timeoutMs: 60_000 });
  }

  /** A kit call on the started instance; a reaped instance is started again and the call repeated once. */
  private async call(c: string, init: Parameters<BrowserKit['send']>[1]): Promise<HttpResponse> {
    if (!this.#started.get(c)) await this.start(c, init.signal);
    const res = await this.send(c, init);
    if (res.status !== 404 || (header(res, 'content-type') ?? '').includes('html')) return res;
    const text = await res.body.text();
    if (!/instance/i.test(text)) return { ...res, body: { text: async () => text, dump: async () => undefined } as HttpResponse['body'] };
    this.#started.delete(c);
    await this.start(c, init.signal);
    return this.send(c, init);
  }

  private async json<T>(c: string, init: Parameters<BrowserKit['send']>[1]): Promise<T> {
    return readJson<T>(await this.call(c, init), 'browser');
  }

  /** Start (or find) the headless instance. */
  async start(c: string, signal?: AbortSignal): Promise<void> {
    await readJson(await this.send(c, { method: 'GET', path: '/start', query: { showBrowser: 'false', viewport: VIEWPORT }, signal }), 'browser');
    this.#started.set(c, Date.now());
  }

  async tabs(c: string, signal?: AbortSignal): Promise<Tab[]> {
    const raw = await this.json<{ id: number; url: string; isActive?: boolean; active?: boolean }[] | { tabs?: unknown[] }>(c, { method: 'GET', path: '/tabs', signal });
    const list = (Array.isArray(raw) ? raw : ((raw?.tabs ?? []) as { id: number; url: string; isActive?: boolean }[])) as { id: number; url: string; isActive?: boolean; active?: boolean }[];
    return list.map((t) => ({ id: Number(t.id), url: String(t.url ?? ''), active: !!(t.isActive ?? t.active) }));
  }

  /** The tab to work in, made active: `tab` if given, else the active one (a new one if there is none). */
  async useTab(c: string, tab: number | undefined, signal?: AbortSignal, tabs?: Tab[]): Promise<number> {
    const all = tabs ?? (await this.tabs(c, signal));
    const t = tab === undefined ? (all.find((x) => x.active) ?? all[0]) : all.find((x) => x.id === tab);
    if (tab !== undefined && !t) throw new HoodyError({ kind: 'not_found', source: 'browser', message: `no tab ${tab} (tabs: ${all.map((x) => x.id).join(', ') || 'none'})`, next: { code: 'list_tabs' } });
    if (!t) return (await this.open(c, 'about:blank', signal)).tabId;
    if (!t.active) await this.json(c, { method: 'POST', path: '/browse', body: { url: t.url, tabId: t.id, active: true, onlyIfNotExists: true }, signal });
    return t.id;
  }

  async open(c: string, url: string, signal?: AbortSignal): Promise<{ tabId: number; url: string }> {
    const r = await this.json<{ tabId: number; url: string }>(c, { method: 'POST', path: '/browse', body: { url: pageUrl(url), active: true }, signal, idempotent: false });
    return { tabId: Number(r.tabId), url: String(r.url ?? url) };
  }

  /** Navigate a tab (default: the current one, opening one if there is none) and wait for load. */
  async navigate(c: string, url: string, tab: number | undefined, signal?: AbortSignal): Promise<{ tabId: number; url: string }> {
    const u = pageUrl(url);
    const id = await this.useTab(c, tab, signal);
    const r = await this.json<{ tabId: number; url: string }>(c, { method: 'POST', path: '/browse', body: { url: u, tabId: id, active: true }, signal, idempotent: false });
    return { tabId: Number(r.tabId ?? id), url: String(r.url ?? u) };
  }

  async closeTab(c: string, tab: number, signal?: AbortSignal): Promise<{ remaining?: number }> {
    const r = await this.json<{ remaining?: number }>(c, { method: 'POST', path: '/tab/close', body: { tabId: tab }, signal });
    return r ?? {};
  }

  /** Run a script in a tab (default: the current one); the value as JSON gives it. */
  async eval(c: string, script: string, tab: number | undefined, signal?: AbortSignal): Promise<{ tab: number; result: unknown }> {
    if (script.length > MAX_SCRIPT_CHARS) throw bad(`the script is ${script.length} characters (limit ${MAX_SCRIPT_CHARS})`);
    const id = await this.useTab(c, tab, signal);
    const r = await this.json<{ result?: unknown }>(c, { method: 'POST', path: '/eval', body: { script }, signal, idempotent: false });
    return { tab: id, result: r?.result ?? null };
  }

  private async page<T>(c: string, script: string, signal?: AbortSignal): Promise<T> {
    const r = await this.json<{ result?: T }>(c, { method: 'POST', path: '/eval', body: { script }, signal, idempotent: false });
    if (!r?.result || typeof r.result !== 'object') throw new HoodyError({ kind: 'server', source: 'browser', message: 'the page script returned nothing (is the tab showing a web page?)' });
    return r.result;
  }

  async snapshot(c: string, o: { tab?: number; offset?: number; query?: string; ref?: string; urls?: boolean; budget: number }, signal?: AbortSignal): Promise<Snapshot> {
    if (o.ref !== undefined && !REF.test(o.ref)) throw bad(`"${o.ref.slice(0, 40)}" is not a ref`, 'refs look like e12, as a snapshot printed them');
    const tab = await this.useTab(c, o.tab, signal);
    const key = `${c}:${tab}`;
    const doc = this.docOf(key, o.ref);
    const base = this.#maxRef.get(key) ?? 0;
    const r = await this.page<Snapshot & { doc: string; error?: string }>(c, snapshotScript({ base, offset: o.offset, query: o.query, ref: o.ref, doc, urls: o.urls, budget: o.budget }), signal);
    if (r.error) throw refError(r.error, o.ref, undefined);
    let max = base;
    for (const line of r.lines) {
      for (const m of line.matchAll(/\[(e(\d+))[ \]]/g)) {
        this.#refs.set(`${key}:${m[1]}`, r.doc);
        max = Math.max(max, Number(m[2]));
      }
    }
    this.#maxRef.set(key, max);
    return { tab, url: r.url, title: r.title, lines: r.lines, offset: r.offset, next: r.next, total: r.total, left: r.left };
  }

  /** The document a ref was printed from (refused when no snapshot of this tab printed it). */
  private docOf(key: string, ref: string | undefined): string | undefined {
    if (ref === undefined) return undefined;
    const doc = this.#refs.get(`${key}:${ref}`);
    if (!doc) throw snapshotAgain(`ref ${ref} was not printed by a snapshot of tab ${key.split(':')[1]}`);
    return doc;
  }

  /** One action; waits briefly for what it set off (a navigation, a new tab) and says what changed. */
  async act(c: string, o: Omit<ActArgs, 'doc'> & { tab?: number }, signal?: AbortSignal): Promise<ActResult> {
    needs(o);
    const before = await this.tabs(c, signal);
    const tab = await this.useTab(c, o.tab, signal, before);
    const doc = this.docOf(`${c}:${tab}`, o.ref);
    const { tab: _t, ...args } = o;
    const r = await this.page<{ error?: string; message?: string; label?: string; options?: string[]; doc: string; state: string; url: string; title: string; before: { url: string; title: string; dialogs: number }; dialogs: ActResult['dialogs'] }>(
      c, actScript({ ...args, doc, base: this.#maxRef.get(`${c}:${tab}`) ?? 0 }), signal,
    );
    if (r.error) throw refError(r.error, o.ref ?? o.selector, r);
    const settled = await this.settle(c, tab, { doc: r.doc, dialogs: r.before.dialogs + r.dialogs.length, base: this.#maxRef.get(`${c}:${tab}`) ?? 0 }, ['back', 'forward', 'reload'].includes(o.action), signal);
    const after = await this.tabs(c, signal).catch(() => before);
    const navigated = settled.doc !== r.doc;
    return {
      tab, label: r.label ?? '', state: navigated ? '' : r.state, url: settled.url, title: settled.title, urlBefore: r.before.url, titleBefore: r.before.title, navigated,
      dialogs: [...r.dialogs, ...settled.dialogs], newTabs: after.filter((t) => !before.some((b) => b.id === t.id)),
    };
  }

  /** Poll the tab until what an action set off has landed: a new document loaded, or nothing pending (≤ 3 s). */
  private async settle(c: string, tab: number, at: { doc: string; dialogs: number; base: number }, expectNavigation: boolean, signal?: AbortSignal) {
    const doc = at.doc;
    type Probe = { doc: string; url: string; title: string; ready: string; dialogs: ActResult['dialogs'] };
    const until = Date.now() + 3_000;
    let last: Probe | undefined;
    for (let i = 0; Date.now() < until; i++) {
      await new Promise((r) => setTimeout(r, i === 0 ? 100 : 150));
      signal?.throwIfAborted();
      // A popup becomes the kit's active tab, and /eval runs there: make this tab active again first.
      if ((await this.useTab(c, tab, signal).catch(() => undefined)) === undefined) break; // the action closed the tab
      const p = await this.page<Probe>(c, probeScript(at), signal).catch(() => undefined);
      if (!p) continue; // the page is between documents
      last = p;
      const moved = p.doc !== doc;
      if (moved ? p.ready === 'complete' : !expectNavigation || i >= 6) break;
    }
    return last ?? { doc, url: '', title: '', ready: '', dialogs: [] };
  }

  async screenshot(c: string, o: { tab?: number; fullPage?: boolean }, signal?: AbortSignal): Promise<{ tab: number; data: Buffer }> {
    const tab = await this.useTab(c, o.tab, signal);
    const res = await this.call(c, { method: 'GET', path: '/screenshot', query: { tabId: tab, format: 'png', fullPage: o.fullPage ? 'true' : undefined }, signal });
    if (res.status >= 400) await readJson(res, 'browser');
    const len = Number(header(res, 'content-length') ?? 0);
    if (len > MAX_SCREENSHOT_BYTES) {
      await res.body.dump();
      throw bad(`the screenshot is ${len} bytes (limit ${MAX_SCREENSHOT_BYTES})`, 'take the viewport instead of the full page');
    }
    const data = Buffer.from(await res.body.arrayBuffer());
    if (data.length > MAX_SCREENSHOT_BYTES) throw bad('the screenshot is too large', 'take the viewport instead of the full page');
    return { tab, data };
  }

  async logs(c: string, kind: 'console' | 'network', tab: number | undefined, signal?: AbortSignal): Promise<LogEntry[]> {
    const r = await this.json<{ logs?: LogEntry[]; entries?: LogEntry[] }>(c, { method: 'GET', path: `/${kind}`, query: { tabId: tab }, signal });
    return r?.logs ?? r?.entries ?? [];
  }
}

function needs(o: Omit<ActArgs, 'doc'>): void {
  const target = o.ref ?? o.selector;
  if (o.ref !== undefined && !REF.test(o.ref)) throw bad(`"${o.ref.slice(0, 40)}" is not a ref`, 'refs look like e12, as a snapshot printed them');
  if (o.ref !== undefined && o.selector !== undefined) throw bad('pass ref or selector, not both');
  if (o.selector !== undefined && o.selector.length > 1000) throw bad('the selector is longer than 1000 characters');
  if (o.key !== undefined && !/^[\w+ -]{1,40}$/.test(o.key)) throw bad(`"${o.key.slice(0, 40)}" is not a key name`, 'e.g. Enter, Escape, Tab, ArrowDown');
  if (['click', 'type', 'select', 'hover'].includes(o.action) && target === undefined) throw bad(`${o.action} needs ref or selector`);
  if ((o.action === 'type' || o.action === 'select') && o.text === undefined) throw bad(`${o.action} needs text`);
  if (o.action === 'press' && !o.key) throw bad('press needs key (e.g. Enter, Escape, ArrowDown)');
}

function refError(code: string, target: string | undefined, r: { message?: string; label?: string; options?: string[] } | undefined): HoodyError {
  const what = r?.label || target || 'the element';
  switch (code) {
    case 'stale':
      return snapshotAgain(`ref ${target} is from an older page (the tab navigated or reloaded since that snapshot); nothing was done`);
    case 'gone':
      return snapshotAgain(`${target} is no longer in the page; nothing was done`);
    case 'no_match':
      return new HoodyError({ kind: 'not_found', source: 'browser', message: `no element matches ${target}; nothing was done`, next: { code: 'snapshot_again' } });
    case 'bad_selector':
      return bad(`invalid selector: ${r?.message ?? target}`);
    case 'disabled':
      return bad(`${what} is disabled; nothing was done`);
    case 'not_select':
      return bad(`${what} is not a select`, 'use type for text fields, click for radios and checkboxes');
    case 'no_option':
      return bad(`${what} has no such option`, `options: ${(r?.options ?? []).join(', ')}`);
    case 'not_typable':
      return bad(`${what} does not take text`);
    default:
      return bad(`the action failed (${code})`);
  }
}
