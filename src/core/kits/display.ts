/**
 * display kit client (seed-kits-browser-display.md §2): the X canvas size, screenshots, input
 * verbs, windows. One host (`display-1`) and an explicit, validated `displayId` on every call —
 * a malformed id would silently fall back to the host's display [S:5725]. Displays are created
 * through the terminal kit: `create {terminal_id: N, display: N}` [S:9970], idempotent, blocking
 * until the display answers [R:62276-62345]. Display N is made by terminal session N (the by-id
 * pairing [S:9966]) only below exec's job range (`JOB_TERMINAL_IDS`): a display from 20000 up is
 * driven if it runs, never made, so it can never take over, or be taken by, a job's session.
 *
 * Input answers 429 while the kit's per-display queue is full [R:41056]: the HTTP core retries
 * it with jittered backoff; what still fails is an error saying the queue stayed full.
 */
import { HoodyError } from '../errors.js';
import { readJson, type HttpResponse } from '../http.js';
import type { Kits } from '../kits.js';
import { JOB_TERMINAL_IDS } from './terminal.js';

export const MAX_DISPLAY_ID = 999_999;
/** The container's desktop: what `desktop-1` opens (display 1600+1 [S:269-273]). */
export const DESKTOP_DISPLAY = 1601;
/** A screenshot larger than this is refused (an 8192×4096 canvas is ~10-30 MB of PNG). */
export const MAX_SHOT_BYTES = 64 * 1024 * 1024;
const P = '/api/v1/display';

export interface DisplayWindow {
  id: number;
  name: string;
  class: string;
  x: number;
  y: number;
  width: number;
  height: number;
  focused: boolean;
}

interface RawWindow {
  windowId?: number | string;
  name?: string;
  class?: string[] | string;
  geometry?: { x?: number; y?: number; width?: number; height?: number };
  focused?: boolean;
}

/** The terminal session that makes display `display`: itself, below exec's job range; else none. */
export function displayTerminal(display: number): number | undefined {
  return display < JOB_TERMINAL_IDS.min ? display : undefined;
}

export function checkDisplayId(display: number): number {
  if (!Number.isInteger(display) || display < 1 || display > MAX_DISPLAY_ID) {
    throw new HoodyError({ kind: 'bad_request', source: 'display', message: `display must be a number from 1 to ${MAX_DISPLAY_ID}, not ${display}` });
  }
  return display;
}

/** Read a body of at most `max` bytes. */
async function readCapped(res: HttpResponse, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      res.body.destroy();
      throw new HoodyError({ kind: 'server', source: 'display', message: `${what} is over ${Math.round(max / 1024 / 1024)} MB: refused` });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export class DisplayKit {
  constructor(private readonly kits: Kits) {}

  async #get<T>(c: string, display: number, path: string, query: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    const res = await this.kits.request(c, 'display', { method: 'GET', path: `${P}${path}`, query: { displayId: checkDisplayId(display), ...query }, signal });
    return readJson<T>(res, 'display');
  }

  /** Create display `display` (a desktop session for the desktop range) through the terminal kit. */
  async create(c: string, display: number, signal?: AbortSignal): Promise<void> {
    const d = String(checkDisplayId(display));
    const terminal = displayTerminal(display);
    if (terminal === undefined) throw new HoodyError({ kind: 'bad_request', source: 'display', message: `display ${display} is not made here: its terminal id would be one command jobs use` });
    const res = await this.kits.request(c, 'terminal', {
      method: 'POST',
      path: '/api/v1/terminal/create',
      body: { terminal_id: String(terminal), display: d, ...(display > 1600 ? { desktop_env: 'xfce' } : {}) },
      idempotent: true, // "returns success if it already exists"
      signal,
      timeoutMs: 60_000,
    });
    await readJson(res, 'terminal');
  }

  /** The X canvas, in whose pixels input coordinates live [S:5895-5898]. */
  async geometry(c: string, display: number, signal?: AbortSignal): Promise<{ width: number; height: number }> {
    const g = await this.#get<{ width?: number; height?: number }>(c, display, '/input/display-geometry', {}, signal);
    if (!g?.width || !g?.height) throw new HoodyError({ kind: 'server', source: 'display', message: 'the display kit reported no canvas size' });
    return { width: g.width, height: g.height };
  }

  /** A fresh PNG of the whole canvas (binary form: no base64 on the wire). */
  async screenshot(c: string, display: number, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.kits.request(c, 'display', { method: 'GET', path: `${P}/screenshot`, query: { displayId: checkDisplayId(display) }, signal });
    if (res.status >= 400) return readJson(res, 'display');
    return readCapped(res, MAX_SHOT_BYTES, `the screenshot of display ${display}`);
  }

  /** A fresh 320×180 thumbnail (change detection, not clicking [R:43515]). */
  async thumbnail(c: string, display: number, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.kits.request(c, 'display', { method: 'GET', path: `${P}/thumbnail`, query: { displayId: checkDisplayId(display) }, signal });
    if (res.status >= 400) return readJson(res, 'display');
    return readCapped(res, 4 * 1024 * 1024, 'a thumbnail');
  }

  /** One input verb (`input/click-at`, `keyboard/key`…); never re-sent after an ambiguous failure. */
  async input(c: string, display: number, verb: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    try {
      const res = await this.kits.request(c, 'display', {
        method: 'POST', path: `${P}/${verb}`, query: { displayId: checkDisplayId(display) }, body, idempotent: false, signal,
        retry: { attempts: 6, baseMs: 150, maxMs: 2_000 },
      });
      return (await readJson<{ details?: Record<string, unknown> }>(res, 'display'))?.details ?? {};
    } catch (err) {
      if (err instanceof HoodyError && err.kind === 'rate_limited') {
        throw new HoodyError({ kind: 'rate_limited', source: 'display', status: 429, message: `display ${display}'s input queue stayed full after 6 tries`, next: { code: 'retry_later', afterS: 2 } });
      }
      throw err;
    }
  }

  /** A fresh crop `x1,y1,x2,y2` of the canvas, taken `delayMs` from now through the input queue. */
  async region(c: string, display: number, box: [number, number, number, number], delayMs: number, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.kits.request(c, 'display', {
      method: 'POST', path: `${P}/input/act`, query: { displayId: checkDisplayId(display) }, signal,
      body: { action: 'input/wait', params: { ms: 50 }, screenshot: true, screenshotDelay: Math.max(0, delayMs - 50), screenshotRegion: box.join(',') },
      idempotent: true, // waiting changes nothing
    });
    const body = await readJson<{ screenshot?: { image?: { data?: string } } }>(res, 'display');
    const data = body?.screenshot?.image?.data;
    if (!data) throw new HoodyError({ kind: 'server', source: 'display', message: 'the display kit sent no screenshot with input/act' });
    return Buffer.from(data, 'base64');
  }

  async windows(c: string, display: number, signal?: AbortSignal): Promise<DisplayWindow[]> {
    const body = await this.#get<{ windows?: RawWindow[]; focusedWindowId?: number | null }>(c, display, '/windows', { onlyVisible: true }, signal);
    return (body?.windows ?? []).map((w) => ({
      id: Number(w.windowId),
      name: String(w.name ?? ''),
      class: Array.isArray(w.class) ? String(w.class[1] ?? w.class[0] ?? '') : String(w.class ?? ''),
      x: w.geometry?.x ?? 0,
      y: w.geometry?.y ?? 0,
      width: w.geometry?.width ?? 0,
      height: w.geometry?.height ?? 0,
      focused: !!w.focused || (body?.focusedWindowId != null && Number(body.focusedWindowId) === Number(w.windowId)),
    }));
  }

  /** focus | close one window (404 `WINDOW_NOT_FOUND` when it is gone). */
  async window(c: string, display: number, op: 'focus' | 'close', windowId: number, signal?: AbortSignal): Promise<void> {
    if (!Number.isSafeInteger(windowId) || windowId <= 0) throw new HoodyError({ kind: 'bad_request', source: 'display', message: `${windowId} is not a window id` });
    const res = await this.kits.request(c, 'display', { method: 'POST', path: `${P}/window/${op}`, query: { displayId: checkDisplayId(display) }, body: { windowId }, idempotent: false, signal });
    await readJson(res, 'display');
  }
}
