/**
 * One container's browser kit: instances keyed by `browser_port` [S:3676], each a Playwright
 * context in the simulator's one real Chromium (Debian's /usr/bin/chromium, headless whatever
 * `showBrowser` says: the simulator has no display to put it on). Tabs are small ints from 1 per
 * instance; `/eval` runs in the last active tab [R:35464]; console and network are 500-entry ring
 * buffers per instance [S:3672].
 *
 * Why playwright-core: the real kit is Playwright [S:3610], so its page lifecycle (load waits,
 * popups as new tabs, console/pageerror/response events, screenshots) is the one the kit has; and
 * it drives the installed Chromium without downloading anything.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ContainerRec } from '../../records.js';
import { KitError, type KitState } from '../base.js';

export const CHROMIUM_PATH = process.env.HOODY_SIM_CHROMIUM ?? '/usr/bin/chromium';
export const DEFAULT_PORT = 30001;
const RING = 500;

/** The simulator's one Chromium: launched on first use, closed with the simulator. */
export class Chromium {
  #browser?: Promise<Browser>;

  get(): Promise<Browser> {
    this.#browser ??= (async () => {
      const { chromium } = await import('playwright-core');
      const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
      return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
    })();
    this.#browser.catch(() => (this.#browser = undefined));
    return this.#browser;
  }

  async close(): Promise<void> {
    const b = this.#browser;
    this.#browser = undefined;
    await (await b?.catch(() => undefined))?.close().catch(() => undefined);
  }
}

export interface ConsoleEntry {
  timestamp: string;
  type: string;
  text: string;
  tabId: number;
}
export interface NetworkEntry {
  timestamp: string;
  method: string;
  url: string;
  status: number;
  resourceType: string;
  tabId: number;
}

export interface StartOptions {
  browserId: string;
  port: number;
  showBrowser: boolean;
  display?: string;
  stealth: boolean;
  viewport: { width: number; height: number; deviceScaleFactor?: number };
}

export const browserError = (status: number, code: string, message: string, details?: Record<string, unknown>) =>
  new KitError(status, message, { code, ...(details ? { details } : {}) });

export class Instance {
  readonly tabs = new Map<number, Page>();
  readonly #ids = new WeakMap<Page, number>();
  active = 0;
  #next = 1;
  readonly console: ConsoleEntry[] = [];
  readonly network: NetworkEntry[] = [];
  readonly sessionId = crypto.randomUUID();

  constructor(
    readonly opts: StartOptions,
    readonly ctx: BrowserContext,
  ) {
    ctx.on('page', (p) => this.adopt(p));
  }

  /** A page of this context becomes a tab (ours, a popup, a target=_blank link). */
  adopt(page: Page): number {
    const known = this.#ids.get(page);
    if (known) return known;
    const id = this.#next++;
    this.#ids.set(page, id);
    this.tabs.set(id, page);
    this.active = id;
    const push = <T>(ring: T[], e: T) => {
      ring.push(e);
      if (ring.length > RING) ring.splice(0, ring.length - RING);
    };
    const now = () => new Date().toISOString();
    page.on('console', (m) => push(this.console, { timestamp: now(), type: m.type(), text: m.text(), tabId: id }));
    page.on('pageerror', (e) => push(this.console, { timestamp: now(), type: 'error', text: String(e?.message ?? e), tabId: id }));
    page.on('response', (r) =>
      push(this.network, { timestamp: now(), method: r.request().method(), url: r.url(), status: r.status(), resourceType: r.request().resourceType(), tabId: id }),
    );
    page.on('requestfailed', (r) => push(this.network, { timestamp: now(), method: r.method(), url: r.url(), status: 0, resourceType: r.resourceType(), tabId: id }));
    page.on('close', () => {
      this.tabs.delete(id);
      if (this.active === id) this.active = [...this.tabs.keys()].pop() ?? 0;
    });
    return id;
  }

  tab(tabId?: number): { id: number; page: Page } {
    const id = tabId ?? this.active;
    const page = this.tabs.get(id);
    if (!page) throw browserError(404, 'TAB_NOT_FOUND', `Tab ${tabId ?? '(active)'} not found`, { tabId: tabId ?? null });
    return { id, page };
  }

  meta(): Record<string, unknown> {
    const o = this.opts;
    return {
      engine: o.stealth ? 'patchright' : 'playwright', stealth: o.stealth, headless: !o.showBrowser, chromiumBuildId: 'debian',
      chromiumExecutablePath: CHROMIUM_PATH, display: o.display ?? null, browser_id: o.browserId, browser_host: '127.0.0.1',
      browser_port: o.port, sessionId: this.sessionId, sessionName: null, viewport: o.viewport,
      webSocketDebuggerUrl: null, devtoolsHttpUrl: null, devtoolsFrontendUrl: null, useRemoteDebuggingPort: false,
      tabs: [...this.tabs].map(([id, p]) => ({ id, url: p.url() })),
    };
  }

  shortMeta(): Record<string, unknown> {
    const o = this.opts;
    return { engine: o.stealth ? 'patchright' : 'playwright', stealth: o.stealth, headless: !o.showBrowser, browser_id: o.browserId, browser_host: '127.0.0.1', browser_port: o.port, sessionId: this.sessionId, sessionName: null };
  }
}

/** One container's browser instances, by port. */
export class BrowserState implements KitState {
  readonly #instances = new Map<number, Promise<Instance>>();

  constructor(
    readonly chromium: Chromium,
    readonly container: ContainerRec,
  ) {}

  /** The instance on `port`; created with `opts` when missing and `create` (auto-start) allows. */
  async instance(port: number, create: StartOptions | undefined): Promise<Instance> {
    const hit = this.#instances.get(port);
    if (hit) return hit;
    if (!create) throw browserError(404, 'INSTANCE_NOT_FOUND', `No browser instance found for browser_port=${port}`, { browser_port: port });
    return this.start(create);
  }

  async start(o: StartOptions): Promise<Instance> {
    const hit = this.#instances.get(o.port);
    if (hit) {
      const inst = await hit;
      if (inst.opts.stealth !== o.stealth) {
        throw browserError(409, 'INSTANCE_BACKEND_MISMATCH', `Instance backend mismatch: existing instance was launched with stealth=${inst.opts.stealth}`, {
          existingStealth: inst.opts.stealth, requestedStealth: o.stealth,
        });
      }
      return inst;
    }
    if (o.showBrowser && !o.display && !process.env.DISPLAY) {
      throw browserError(400, 'VALIDATION_ERROR', 'display is required when showBrowser=true (no DISPLAY detected)', { parameter: 'display' });
    }
    const p = (async () => {
      const browser = await this.chromium.get().catch((e: Error) => {
        throw browserError(500, 'CHROME_NOT_FOUND', `Chromium could not be launched: ${e.message.split('\n')[0]}`);
      });
      const ctx = await browser.newContext({ viewport: { width: o.viewport.width, height: o.viewport.height }, deviceScaleFactor: o.viewport.deviceScaleFactor ?? 1 });
      const inst = new Instance(o, ctx);
      inst.adopt(await ctx.newPage());
      return inst;
    })();
    this.#instances.set(o.port, p);
    p.catch(() => this.#instances.delete(o.port));
    return p;
  }

  async stopInstance(port: number): Promise<Instance> {
    const hit = this.#instances.get(port);
    if (!hit) throw browserError(404, 'NOT_FOUND', 'Instance not found', { browser_port: port });
    this.#instances.delete(port);
    const inst = await hit;
    await inst.ctx.close().catch(() => undefined);
    return inst;
  }

  stop(): void {
    void this.close();
  }

  async close(): Promise<void> {
    const all = [...this.#instances.values()];
    this.#instances.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.ctx.close().catch(() => undefined)));
  }
}
