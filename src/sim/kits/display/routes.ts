/**
 * The `display` kit at `/api/v1/display/*` (seed-kits-browser-display.md §2, checklist §2.9) on
 * real X servers (`xserver.ts`). Errors are `{statusCode, error, message, code?}` [R:40735-40760].
 * Display context: `?displayId=N` (digits, 1-999999), else silently the host's `display-N` [S:5725].
 * Displays are created by the terminal kit (`create {display}`); a display nobody created is 503
 * `DISPLAY_NOT_AVAILABLE`.
 */
import type { Route } from '../../router.js';
import type { SimCore } from '../../state.js';
import { flag, reason, sendJson, sendText } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import type { KitRuntime } from '../types.js';
import { VERBS, type InputResult } from './input.js';
import { DisplayState, type Shot } from './state.js';
import { displaysOf, MAX_DISPLAY_ID } from './xserver.js';

type Req = KitRequest<DisplayState>;

/** `?displayId` when well-formed, else the host's `display-N` (the documented silent fallback). */
function displayId(req: Req): number {
  const raw = req.query.get('displayId') ?? '';
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  return n >= 1 && n <= MAX_DISPLAY_ID ? n : req.instance;
}

/** `?base64` (true, 1 or empty) → JSON with the image; otherwise PNG bytes [S:6058]. */
function sendShot(req: Req, shot: Shot, png = shot.png): void {
  const v = req.query.get('base64');
  if (v === null || !['', 'true', '1'].includes(v.toLowerCase())) {
    req.res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
    req.res.end(png);
    return;
  }
  const data = png.toString('base64');
  sendJson(req.res, 200, { info: shot.info, image: { data, mimeType: 'image/png', dataUrl: `data:image/png;base64,${data}` } });
}

function lastShot(req: Req): Shot {
  const shot = req.state.shots(displayId(req))[0];
  if (!shot) throw new KitError(404, 'No screenshot available', { code: 'SCREENSHOT_NOT_FOUND' });
  return shot;
}

async function geometry(req: Req): Promise<void> {
  const x = await req.state.x(displayId(req));
  sendJson(req.res, 200, { success: true, width: x.width, height: x.height, screen: 0 });
}

async function location(req: Req): Promise<void> {
  const x = await req.state.x(displayId(req));
  const out = await x.xdo(['getmouselocation', '--shell']);
  const v = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=') as [string, string]));
  sendJson(req.res, 200, { success: true, x: Number(v.X), y: Number(v.Y), screen: Number(v.SCREEN ?? 0), window: Number(v.WINDOW ?? 0) });
}

/** Every input route: its verb over the body, `{success, action, details}` [R:41197-41205]. */
const verb = (name: string) => async (req: Req) => {
  const x = await req.state.x(displayId(req));
  const r = await VERBS[name]!(x, await req.json());
  sendJson(req.res, 200, { success: true, ...r });
};

/** `input/act {action, params, screenshot=true, screenshotDelay=100, screenshotRegion}` [R:40999-41086]. */
async function act(req: Req): Promise<void> {
  const id = displayId(req);
  const b = await req.json();
  const name = typeof b.action === 'string' && b.action.length <= 50 ? b.action : '';
  const run = VERBS[name];
  if (!run) throw new KitError(400, `Unknown action: ${name || String(b.action)}`, { code: 'VALIDATION_ERROR' });
  const params = b.params && typeof b.params === 'object' && !Array.isArray(b.params) ? (b.params as Record<string, unknown>) : {};
  const delay = b.screenshotDelay ?? 100;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > 5000) throw new KitError(400, 'screenshotDelay must be an integer from 0 to 5000', { code: 'VALIDATION_ERROR' });
  const result: InputResult = await run(await req.state.x(id), params);
  const body: Record<string, unknown> = { success: true, action: { success: true, ...result } };
  if (b.screenshot !== false) {
    if (delay) await req.core.wait(delay);
    const region = typeof b.screenshotRegion === 'string' ? b.screenshotRegion : undefined;
    const png = region ? await req.state.region(id, region) : (await req.state.screenshot(id)).png;
    const data = png.toString('base64');
    body.screenshot = { timestamp: new Date().toISOString(), image: { data, mimeType: 'image/png', dataUrl: `data:image/png;base64,${data}` } };
  }
  sendJson(req.res, 200, body);
}

async function windows(req: Req): Promise<void> {
  const id = displayId(req);
  const { focused, windows } = await req.state.windows(id, flag(req.query, 'onlyVisible'));
  sendJson(req.res, 200, { success: true, display: id, focusedWindowId: focused, windows });
}

/** `window/focus|raise|close {windowId}` → `{success, action:"window-<verb>", details:{windowId}}` [R:42397-42785]. */
const windowOp = (op: 'focus' | 'raise' | 'close') => async (req: Req) => {
  const { x, wid } = await req.state.window(displayId(req), (await req.json()).windowId);
  const args = op === 'focus' ? ['windowraise', String(wid), 'windowfocus', '--sync', String(wid)] : op === 'raise' ? ['windowraise', String(wid)] : ['windowclose', String(wid)];
  await x.input(async () => {
    await x.xdo(args);
    // Without a window manager a client may hand focus back (PointerRoot) when it handles the
    // focus change (Tk does, the first time): a focus answer means the window holds it once the
    // desktop has handled every event, so set it again until it does (bounded).
    for (let i = 0; op === 'focus' && i < 20; i++) {
      await x.settle();
      if ((await x.focusedTopLevel()) === wid) break;
      await x.xdo(['windowfocus', String(wid)]);
    }
  });
  sendJson(req.res, 200, { success: true, action: `window-${op}`, details: { windowId: wid } });
};

/**
 * The HTML5 client. A viewer opening it at `override_width`×`override_height` resizes the canvas,
 * as Xpra does for a desktop session; the simulator restarts that display's X server at the size.
 */
async function client(req: Req): Promise<void> {
  const q = req.query;
  const w = Number(q.get('override_width') ?? NaN);
  const h = Number(q.get('override_height') ?? NaN);
  if (Number.isInteger(w) && Number.isInteger(h)) {
    if (w < 320 || w > 8192 || h < 480 || h > 4320) throw new KitError(400, 'override_width must be 320-8192 and override_height 480-4320', { code: 'VALIDATION_ERROR' });
    await (await req.state.x(displayId(req))).resize(w, h);
  }
  sendText(req.res, 200, `<!DOCTYPE html><html><head><title>Display ${displayId(req)}</title></head><body>hoody display</body></html>`, 'text/html; charset=utf-8');
}

const D = '/api/v1/display';
const ROUTES: Route<Req>[] = [
  { method: 'GET', pattern: `${D}/`, handler: client },
  { method: 'GET', pattern: `${D}/input/display-geometry`, handler: geometry },
  { method: 'GET', pattern: `${D}/mouse/location`, handler: location },
  { method: 'GET', pattern: `${D}/screenshot`, handler: async (req) => sendShot(req, await req.state.screenshot(displayId(req))) },
  { method: 'GET', pattern: `${D}/screenshot/last`, handler: (req) => sendShot(req, lastShot(req)) },
  { method: 'GET', pattern: `${D}/screenshot/last/info`, handler: (req) => sendJson(req.res, 200, lastShot(req).info) },
  { method: 'GET', pattern: `${D}/screenshots`, handler: (req) => sendJson(req.res, 200, { display: displayId(req), screenshots: req.state.shots(displayId(req)).map((s) => s.info) }) },
  { method: 'GET', pattern: `${D}/thumbnail`, handler: async (req) => { const t = await req.state.thumbnail(displayId(req)); sendShot(req, t); } },
  { method: 'POST', pattern: `${D}/input/act`, handler: act },
  ...Object.keys(VERBS).map((name): Route<Req> => ({ method: 'POST', pattern: `${D}/${name}`, handler: verb(name) })),
  { method: 'GET', pattern: `${D}/windows`, handler: windows },
  { method: 'POST', pattern: `${D}/window/focus`, handler: windowOp('focus') },
  { method: 'POST', pattern: `${D}/window/raise`, handler: windowOp('raise') },
  { method: 'POST', pattern: `${D}/window/close`, handler: windowOp('close') },
];

export function createDisplayKit(core: SimCore): KitRuntime {
  const kit = createKit(core, {
    slug: 'display',
    service: 'display',
    state: (c) => new DisplayState(core, c),
    routes: ROUTES,
    errors: {
      body: (e) => ({ statusCode: e.status, error: reason(e.status), message: e.message, ...e.fields }),
      badJson: () => new KitError(400, 'Invalid JSON body', { code: 'VALIDATION_ERROR' }),
    },
  });
  // The X servers outlive the kit's per-container state: stop them with the container and the simulator.
  return {
    ...kit,
    onStop: (id: string) => {
      kit.onStop?.(id);
      void displaysOf(core).stopContainer(id);
    },
    close: async () => {
      await kit.close?.();
      await displaysOf(core).closeAll();
    },
  };
}
