/**
 * One container's view of its X displays for the display kit (seed-kits-browser-display.md §2):
 * screenshots (kept per display, unix-second timestamps), crops and thumbnails, input through each
 * display's queue, windows. HTTP-free: `routes.ts` parses requests and sends the bodies built here.
 */
import type { ContainerRec } from '../../records.js';
import type { SimCore } from '../../state.js';
import { KitError, type KitState } from '../base.js';
import { displaysOf, type XServer } from './xserver.js';

export interface ShotInfo {
  timestamp: string;
  timestamp_human: string;
  full: { path: string; size: number; width: number; height: number };
  thumbnail: { path: string; size: number; width: number; height: number } | null;
}

export interface Shot {
  info: ShotInfo;
  png: Buffer;
}

export interface WindowInfo {
  windowId: number;
  name: string;
  class: [string, string];
  desktop: number;
  geometry: { x: number; y: number; width: number; height: number };
  focused: boolean;
  states: string[];
}

const KEEP_SHOTS = 4;

type SharpFn = (typeof import('sharp'))['default'];
let sharpP: Promise<SharpFn> | undefined;
const sharp = () => (sharpP ??= import('sharp').then((m) => m.default));

/** `xwininfo -root -children` lines: `0x20001b "Desktop": ("a" "A")  2560x1440+0+0  +0+0`. */
const CHILD = /^\s*(0x[0-9a-f]+) (?:"((?:[^"\\]|\\.)*)"|\(has no name\)): \((?:"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)/;

export class DisplayState implements KitState {
  readonly #shots = new Map<number, Shot[]>();

  constructor(
    private readonly core: SimCore,
    private readonly container: ContainerRec,
  ) {}

  x(id: number): Promise<XServer> {
    return displaysOf(this.core).get(this.container.id, id);
  }

  async screenshot(id: number): Promise<Shot> {
    const x = await this.x(id);
    const png = await x.screenshot();
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const dir = '/hoody/storage/hoody-display/screenshots';
    const info: ShotInfo = {
      timestamp: ts,
      timestamp_human: now.toISOString().replace(/\.\d+Z$/, '+00:00'),
      full: { path: `${dir}/display_${id}_${ts}.png`, size: png.length, width: x.width, height: x.height },
      thumbnail: null,
    };
    const list = this.#shots.get(id) ?? [];
    list.unshift({ info, png });
    this.#shots.set(id, list.slice(0, KEEP_SHOTS));
    return { info, png };
  }

  shots(id: number): Shot[] {
    return this.#shots.get(id) ?? [];
  }

  /** A 320×180 thumbnail of a fresh screenshot [R:43515]. */
  async thumbnail(id: number): Promise<Shot> {
    const shot = await this.screenshot(id);
    const png = await (await sharp())(shot.png).resize(320, 180, { fit: 'fill' }).png().toBuffer();
    shot.info.thumbnail = { path: shot.info.full.path.replace(/\.png$/, '_thumb.png'), size: png.length, width: 320, height: 180 };
    return { info: shot.info, png };
  }

  /** `x1,y1,x2,y2` of a fresh screenshot (the act endpoint's `screenshotRegion` [R:41017]). */
  async region(id: number, region: string): Promise<Buffer> {
    const m = /^(\d+),(\d+),(\d+),(\d+)$/.exec(region.replace(/\s/g, ''));
    if (!m) throw new KitError(400, 'screenshotRegion must be "x1,y1,x2,y2"', { code: 'VALIDATION_ERROR' });
    const [x1, y1, x2, y2] = m.slice(1).map(Number) as [number, number, number, number];
    const shot = await this.screenshot(id);
    const { width, height } = shot.info.full;
    const left = Math.min(x1, width - 1);
    const top = Math.min(y1, height - 1);
    const w = Math.max(1, Math.min(x2, width) - left);
    const h = Math.max(1, Math.min(y2, height) - top);
    return (await sharp())(shot.png).extract({ left, top, width: w, height: h }).png().toBuffer();
  }

  /** Visible top-level windows with names, classes and geometry [R:43703-43786]. */
  async windows(id: number, onlyVisible: boolean): Promise<{ focused: number | null; windows: WindowInfo[] }> {
    const x = await this.x(id);
    const visible = new Set((await x.xdo(['search', '--onlyvisible', '--maxdepth', '1', '--name', ''])).split('\n').filter(Boolean).map(Number));
    const focused = await x.focusedTopLevel();
    const stdout = await x.children();
    const windows: WindowInfo[] = [];
    for (const line of stdout.split('\n')) {
      const m = CHILD.exec(line);
      if (!m) continue;
      const windowId = parseInt(m[1]!, 16);
      if (onlyVisible && !visible.has(windowId)) continue;
      const [w, h, wx, wy] = [m[5], m[6], m[7], m[8]].map(Number) as [number, number, number, number];
      windows.push({
        windowId, name: unescape(m[2] ?? ''), class: [unescape(m[3] ?? ''), unescape(m[4] ?? '')], desktop: 0,
        geometry: { x: wx, y: wy, width: w, height: h }, focused: windowId === focused,
        states: visible.has(windowId) ? [] : ['hidden'],
      });
    }
    return { focused, windows };
  }

  /** The window exists on this display (decimal or `0x…` id [S:5730]), else 404. */
  async window(id: number, raw: unknown): Promise<{ x: XServer; wid: number }> {
    const s = String(raw ?? '');
    const wid = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isSafeInteger(wid) || wid <= 0) throw new KitError(400, 'windowId must be a decimal or 0x… hex window id', { code: 'VALIDATION_ERROR' });
    const { windows } = await this.windows(id, false);
    if (!windows.some((w) => w.windowId === wid)) throw new KitError(404, 'Window not found', { code: 'WINDOW_NOT_FOUND' });
    return { x: await this.x(id), wid };
  }

  stop(): void {
    this.#shots.clear();
  }
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
