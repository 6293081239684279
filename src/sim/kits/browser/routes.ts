/**
 * The `browser` kit (seed-kits-browser-display.md §1): routes at the host ROOT (`/start`,
 * `/browse`, …), health at `/api/v1/browser/health` [S:3909]. Errors are `{error, code, details}`
 * (no statusCode) [R:34264]. Every instance route auto-starts a missing instance unless
 * `start=false` [S:3677] — and the auto-start is headful by default, so without a display it is
 * the documented 400 [S:3699].
 *
 * Choices where the seeds are silent: the default `browser_port` is 30001 [S:3856]; a new instance
 * has one `about:blank` tab; `/browse` without `tabId` opens a new tab, with `onlyIfNotExists` it
 * reuses (and activates, without reloading) a tab already at the URL; a script that throws is
 * 500 `EVAL_FAILED`; `TAB_NOT_FOUND` is 404 and `CANNOT_CLOSE_LAST_TAB` 400.
 */
import type { Route } from '../../router.js';
import type { SimCore } from '../../state.js';
import { sendJson, sendText } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import type { KitRuntime } from '../types.js';
import { browserError, BrowserState, Chromium, DEFAULT_PORT, type Instance, type StartOptions } from './state.js';

type Req = KitRequest<BrowserState>;

const bool = (v: unknown, dflt: boolean): boolean => {
  if (v === undefined || v === null) return dflt;
  const s = String(v).toLowerCase();
  return s === '' || s === 'true' || s === '1' || s === 'yes';
};

function intOf(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw browserError(400, 'VALIDATION_ERROR', `${name} must be an integer between ${min} and ${max}`, { parameter: name });
  return n;
}

function viewportOf(v: string | null): StartOptions['viewport'] {
  if (v === null) return { width: 1280, height: 720 };
  try {
    const o = JSON.parse(v) as { width?: unknown; height?: unknown; deviceScaleFactor?: unknown };
    const w = Number(o.width);
    const h = Number(o.height);
    if (Number.isInteger(w) && Number.isInteger(h) && w >= 100 && h >= 100 && w <= 7680 && h <= 4320) {
      const d = Number(o.deviceScaleFactor ?? 1);
      return { width: w, height: h, deviceScaleFactor: d > 0 && d <= 4 ? d : 1 };
    }
  } catch {
    /* answered below */
  }
  throw browserError(400, 'VALIDATION_ERROR', 'viewport must be a JSON string such as {"width":1280,"height":800}', { parameter: 'viewport' });
}

function startOptions(q: URLSearchParams, body: Record<string, unknown> = {}): StartOptions {
  const port = intOf(q.get('browser_port') ?? body.browser_port ?? q.get('port') ?? body.port, 'browser_port', 1024, 65535) ?? DEFAULT_PORT;
  const browserId = q.get('browser_id') ?? String(body.browser_id ?? '0');
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(browserId)) throw browserError(400, 'INVALID_BROWSER_ID', 'browser_id must be 1-100 characters of [A-Za-z0-9._-]', { parameter: 'browser_id' });
  return { port, browserId, showBrowser: bool(q.get('showBrowser'), true), display: q.get('display') ?? undefined, stealth: bool(q.get('stealth'), true), viewport: viewportOf(q.get('viewport')) };
}

/** The instance a request targets (auto-started unless start=false). */
async function instanceFor(req: Req, body?: Record<string, unknown>): Promise<Instance> {
  const o = startOptions(req.query, body);
  return req.state.instance(o.port, bool(req.query.get('start'), true) ? o : undefined);
}

const tabParam = (q: URLSearchParams) => intOf(q.get('tabId'), 'tabId', 1, 1_000_000);

async function body(req: Req): Promise<Record<string, unknown>> {
  return req.method === 'POST' ? req.json() : {};
}

async function browse(req: Req): Promise<void> {
  const b = req.method === 'POST' ? await req.json() : Object.fromEntries(req.query);
  const inst = await instanceFor(req, b);
  const url = typeof b.url === 'string' ? b.url : '';
  if (!url) throw browserError(400, 'MISSING_URL', 'url is required', { parameter: 'url' });
  const tabId = intOf(b.tabId, 'tabId', 1, 1_000_000);
  const active = bool(b.active, true);
  if (bool(b.onlyIfNotExists, false)) {
    const norm = (u: string) => (bool(b.ignoreGetParameters, false) ? u.split('?')[0] : u);
    const want = norm(new URL(url, 'about:blank').href);
    const hit = [...inst.tabs].find(([id, p]) => (tabId === undefined || id === tabId) && norm(p.url()) === want);
    if (hit) {
      if (active) {
        inst.active = hit[0];
        await hit[1].bringToFront();
      }
      return sendJson(req.res, 200, { tabId: hit[0], url: hit[1].url(), created: false, reused: true });
    }
  }
  const created = tabId === undefined;
  const { id, page } = created ? { id: 0, page: await inst.ctx.newPage() } : inst.tab(tabId);
  const tab = created ? inst.adopt(page) : id;
  if (active) inst.active = tab;
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  } catch (e) {
    throw browserError(502, 'NAVIGATION_FAILED', `Navigation failed: ${(e as Error).message.split('\n')[0]}`, { url });
  }
  sendJson(req.res, 200, { tabId: tab, url: page.url(), created, reused: false });
}

async function evaluate(req: Req): Promise<void> {
  let script = req.query.get('script') ?? '';
  if (req.method === 'POST') {
    const type = String(req.req.headers['content-type'] ?? '');
    if (type.includes('json')) script = String((await req.json()).script ?? '');
    else script = (await readRaw(req)) ?? '';
  }
  const inst = await instanceFor(req);
  if (!script.trim()) throw browserError(400, 'MISSING_SCRIPT', 'script is required', { parameter: 'script' });
  const { page } = inst.tab();
  try {
    const result = await page.evaluate(script);
    sendJson(req.res, 200, { result: result === undefined ? null : result });
  } catch (e) {
    throw browserError(500, 'EVAL_FAILED', `Evaluation failed: ${(e as Error).message.split('\n')[0]!.replace(/^page\.evaluate: /, '')}`);
  }
}

async function readRaw(req: Req): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req.req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > 8 * 1024 * 1024) throw new KitError(413, 'Request body too large', { code: 'PAYLOAD_TOO_LARGE' });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function screenshot(req: Req): Promise<void> {
  const inst = await instanceFor(req);
  const format = req.query.get('format') ?? 'png';
  if (!['png', 'jpeg', 'base64'].includes(format)) {
    throw browserError(400, 'VALIDATION_ERROR', 'format must be one of png, jpeg, base64', { parameter: 'format', allowed: ['png', 'jpeg', 'base64'] });
  }
  const quality = intOf(req.query.get('quality'), 'quality', 0, 100);
  const { page } = inst.tab(tabParam(req.query));
  const url = req.query.get('url');
  if (url) await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  const buf = await page.screenshot({ type: format === 'jpeg' ? 'jpeg' : 'png', quality: format === 'jpeg' ? (quality ?? 80) : undefined, fullPage: bool(req.query.get('fullPage'), false) });
  if (format === 'base64') return sendJson(req.res, 200, { data: buf.toString('base64') });
  req.res.writeHead(200, { 'content-type': `image/${format}`, 'content-length': buf.length });
  req.res.end(buf);
}

function logs(kind: 'console' | 'network') {
  return async (req: Req): Promise<void> => {
    const inst = await instanceFor(req);
    const tab = tabParam(req.query);
    const since = req.query.get('since');
    const type = req.query.get('type');
    const ring: { timestamp: string; tabId: number; type?: string }[] = inst[kind];
    const out = ring.filter((e) => (tab === undefined || e.tabId === tab) && (!since || e.timestamp > since) && (!type || e.type === type));
    if (bool(req.query.get('clear'), false)) ring.length = 0;
    sendJson(req.res, 200, { logs: out, count: out.length });
  };
}

const routes: Route<Req>[] = [
  {
    method: 'GET', pattern: '/start',
    handler: async (req) => sendJson(req.res, 200, (await req.state.start(startOptions(req.query))).meta()),
  },
  {
    method: 'GET', pattern: '/stop',
    handler: async (req) => sendJson(req.res, 200, { message: 'Stopped', meta: (await req.state.stopInstance(startOptions(req.query).port)).shortMeta() }),
  },
  { method: 'GET', pattern: '/metadata', handler: async (req) => sendJson(req.res, 200, (await instanceFor(req)).meta()) },
  {
    method: 'GET', pattern: '/tabs',
    handler: async (req) => {
      const inst = await instanceFor(req);
      sendJson(req.res, 200, [...inst.tabs].map(([id, p]) => ({ id, url: p.url(), isActive: id === inst.active })));
    },
  },
  { method: ['GET', 'POST'], pattern: '/browse', handler: browse },
  {
    method: 'POST', pattern: '/tab/close',
    handler: async (req) => {
      const b = await body(req);
      const inst = await instanceFor(req, b);
      const { id, page } = inst.tab(intOf(b.tabId, 'tabId', 1, 1_000_000));
      if (inst.tabs.size === 1) throw browserError(400, 'CANNOT_CLOSE_LAST_TAB', 'Cannot close the last tab', { tabId: id });
      await page.close();
      sendJson(req.res, 200, { closed: id, remaining: inst.tabs.size });
    },
  },
  { method: ['GET', 'POST'], pattern: '/eval', handler: evaluate },
  { method: 'GET', pattern: '/screenshot', handler: screenshot },
  { method: 'GET', pattern: '/console', handler: logs('console') },
  { method: 'GET', pattern: '/network', handler: logs('network') },
  {
    method: 'GET', pattern: '/text',
    handler: async (req) => sendText(req.res, 200, await (await instanceFor(req)).tab(tabParam(req.query)).page.innerText('body').catch(() => '')),
  },
  {
    method: 'GET', pattern: '/html',
    handler: async (req) => sendText(req.res, 200, await (await instanceFor(req)).tab(tabParam(req.query)).page.content(), 'text/html; charset=utf-8'),
  },
];

export function createBrowserKit(core: SimCore): KitRuntime {
  const chromium = new Chromium();
  const kit = createKit(core, {
    slug: 'browser',
    service: 'hoody-browser',
    state: (c) => new BrowserState(chromium, c),
    routes,
    errors: {
      body: (e) => ({ error: e.message, code: (e.fields.code as string | undefined) ?? (e.status === 404 ? 'NOT_FOUND' : e.status === 405 ? 'METHOD_NOT_ALLOWED' : 'ERROR'), ...(e.fields.details ? { details: e.fields.details } : {}) }),
      badJson: () => browserError(400, 'VALIDATION_ERROR', 'Invalid JSON body'),
    },
  });
  return {
    ...kit,
    async close() {
      await kit.close?.();
      await chromium.close();
    },
  };
}
