/**
 * Displays as one principal uses them: frames (what a screenshot looked like, so coordinates in
 * it map to the X canvas), input serialised per display, displays created on first use, and the
 * pixels around an action compared before and after.
 *
 * A frame is refused when the display's canvas is no longer the size it was taken at: a point in
 * it would land somewhere else, and guessing is worse than asking for a new screenshot.
 */
import { HoodyError } from './errors.js';
import { Lru } from './lru.js';
import { checkDisplayId, displayTerminal, type DisplayKit } from './kits/display.js';
import { JOB_TERMINAL_IDS } from './kits/terminal.js';

export interface Frame {
  id: string;
  container: string;
  display: number;
  /** The image as sent. */
  width: number;
  height: number;
  /** The canvas it was taken of. */
  original: { width: number; height: number };
  /** The part of the canvas the image shows, when not all of it. */
  crop?: { x: number; y: number; width: number; height: number };
  scale: number;
}

export type DisplayAction = 'click' | 'double_click' | 'right_click' | 'move' | 'drag' | 'type' | 'key' | 'scroll';

export interface ActSpec {
  action: DisplayAction;
  /** Canvas pixels. */
  point?: { x: number; y: number };
  to?: { x: number; y: number };
  text?: string;
  keys?: string[];
  direction?: 'up' | 'down' | 'left' | 'right';
  amount?: number;
}

export interface ActResult {
  /** Crops (or, without a point, thumbnails) of the screen before and after. */
  before?: Buffer;
  after?: Buffer;
  /** What was compared: `around` a point, or the whole `screen`. */
  compared: 'around' | 'screen' | 'none';
}

/** Half the side of the square compared around a point, in canvas pixels. */
export const AROUND = 16;
const SETTLE_MS = 150;

/** Key names as people write them → X keysyms (xdotool), combinations kept: `ctrl+Enter` → `ctrl+Return`. */
export function xKey(key: string): string {
  const map: Record<string, string> = {
    enter: 'Return', return: 'Return', esc: 'Escape', escape: 'Escape', backspace: 'BackSpace', tab: 'Tab', space: 'space',
    delete: 'Delete', del: 'Delete', insert: 'Insert', home: 'Home', end: 'End', pageup: 'Prior', pagedown: 'Next',
    arrowup: 'Up', arrowdown: 'Down', arrowleft: 'Left', arrowright: 'Right', up: 'Up', down: 'Down', left: 'Left', right: 'Right',
    cmd: 'super', meta: 'super', win: 'super', super: 'super', control: 'ctrl', ctrl: 'ctrl', alt: 'alt', option: 'alt', shift: 'shift',
  };
  return key.split('+').map((p) => p.trim()).map((p) => map[p.toLowerCase().replace(/[\s_-]/g, '')] ?? (/^f\d{1,2}$/i.test(p) ? p.toUpperCase() : p)).join('+');
}

export class Displays {
  readonly #frames = new Lru<Frame>(64);
  readonly #last = new Lru<string>(64);
  readonly #ready = new Lru<true>(256);
  readonly #queues = new Map<string, Promise<unknown>>();
  #n = 0;

  constructor(private readonly kit: DisplayKit) {}

  /** Remember a screenshot's frame; it becomes the display's default frame. */
  addFrame(f: Omit<Frame, 'id'>): Frame {
    const frame = { ...f, id: `f${++this.#n}` };
    this.#frames.set(frame.id, frame);
    this.#last.set(`${f.container}:${f.display}`, frame.id);
    return frame;
  }

  /**
   * Make sure the display exists (created through the terminal kit on first use). Displays from
   * exec's job range up have no terminal of their own: used if they run (`forgetOnFailure` says so if not).
   */
  async ensure(c: string, display: number, signal?: AbortSignal): Promise<void> {
    const key = `${c}:${checkDisplayId(display)}`;
    if (this.#ready.has(key)) return;
    if (displayTerminal(display) !== undefined) await this.kit.create(c, display, signal);
    this.#ready.set(key, true);
  }

  /** Run `fn` after every earlier input to this display (ours) has finished. */
  serial<T>(c: string, display: number, fn: () => Promise<T>): Promise<T> {
    const key = `${c}:${display}`;
    const prev = this.#queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#queues.set(key, tail);
    void tail.then(() => this.#queues.get(key) === tail && this.#queues.delete(key));
    return next;
  }

  /** A screenshot of the whole canvas (the display made if needed). */
  async screenshot(c: string, display: number, signal?: AbortSignal): Promise<Buffer> {
    await this.ensure(c, display, signal);
    return this.forgetOnFailure(c, display, this.kit.screenshot(c, display, signal));
  }

  /** A fresh capture of a part of the canvas (clamped to it). */
  async region(c: string, display: number, r: { x: number; y: number; width: number; height: number }, signal?: AbortSignal): Promise<Buffer> {
    await this.ensure(c, display, signal);
    const g = await this.forgetOnFailure(c, display, this.kit.geometry(c, display, signal));
    if (r.x >= g.width || r.y >= g.height) {
      throw new HoodyError({ kind: 'bad_request', source: 'display', message: `region starts outside display ${display} (${g.width}×${g.height})` });
    }
    const box: [number, number, number, number] = [r.x, r.y, Math.min(g.width, r.x + r.width), Math.min(g.height, r.y + r.height)];
    return this.serial(c, display, () => this.kit.region(c, display, box, 0, signal));
  }

  /** The canvas size now. */
  async canvas(c: string, display: number, signal?: AbortSignal): Promise<{ width: number; height: number }> {
    await this.ensure(c, display, signal);
    return this.forgetOnFailure(c, display, this.kit.geometry(c, display, signal));
  }

  /**
   * The frame to map coordinates through: `id`, or the last one of this display. Refused when it
   * is of another display or the canvas has changed size since.
   */
  async frame(c: string, display: number, id: string | undefined, signal?: AbortSignal): Promise<Frame> {
    const fid = id ?? this.#last.get(`${c}:${display}`);
    const f = fid ? this.#frames.get(fid) : undefined;
    if (!f) {
      const message = id ? `unknown frame "${id}" (frames are kept for the last 64 screenshots)` : `no screenshot of display ${display} yet: coordinates need its frame`;
      throw new HoodyError({ kind: 'bad_request', source: 'display', message, next: { code: 'new_frame', display } });
    }
    if (f.container !== c || f.display !== display) {
      throw new HoodyError({ kind: 'bad_request', source: 'display', message: `frame ${f.id} is of display ${f.display}${f.container !== c ? ' of another container' : ''}, not display ${display}`, next: { code: 'new_frame', display } });
    }
    await this.ensure(c, display, signal);
    const now = await this.forgetOnFailure(c, display, this.kit.geometry(c, display, signal));
    if (now.width !== f.original.width || now.height !== f.original.height) {
      throw new HoodyError({
        kind: 'conflict', source: 'display',
        message: `frame ${f.id} was taken at ${f.original.width}×${f.original.height}, but display ${display} is now ${now.width}×${now.height}: its coordinates would land elsewhere, so nothing was done`,
        next: { code: 'new_frame', display },
      });
    }
    return f;
  }

  /** Do one action (canvas coordinates), serialised with this display's other input, capturing around it. */
  act(c: string, display: number, spec: ActSpec, signal?: AbortSignal): Promise<ActResult> {
    return this.serial(c, display, async () => {
      await this.ensure(c, display, signal);
      const at = spec.action === 'drag' ? spec.to : spec.point;
      const box = at ? await this.forgetOnFailure(c, display, this.box(c, display, at, signal)) : undefined;
      const look = (delay: number) => (box ? this.kit.region(c, display, box, delay, signal) : this.kit.thumbnail(c, display, signal));
      const before = await look(0);
      await this.forgetOnFailure(c, display, this.run(c, display, spec, signal));
      if (!box) await new Promise((r) => setTimeout(r, SETTLE_MS));
      const after = await look(SETTLE_MS);
      return { before, after, compared: box ? 'around' : 'screen' };
    });
  }

  async box(c: string, display: number, p: { x: number; y: number }, signal?: AbortSignal): Promise<[number, number, number, number]> {
    const g = await this.kit.geometry(c, display, signal);
    const x1 = Math.max(0, p.x - AROUND);
    const y1 = Math.max(0, p.y - AROUND);
    return [x1, y1, Math.min(g.width, p.x + AROUND + 1), Math.min(g.height, p.y + AROUND + 1)];
  }

  private async run(c: string, d: number, s: ActSpec, signal?: AbortSignal): Promise<void> {
    const input = (verb: string, body: Record<string, unknown>) => this.kit.input(c, d, verb, body, signal);
    const p = s.point;
    switch (s.action) {
      case 'click':
      case 'right_click':
        await input('input/click-at', { x: p!.x, y: p!.y, button: s.action === 'click' ? 1 : 3 });
        return;
      case 'double_click':
        await input('mouse/move', { x: p!.x, y: p!.y });
        await input('mouse/double-click', { button: 1 });
        return;
      case 'move':
        await input('mouse/move', { x: p!.x, y: p!.y });
        return;
      case 'drag':
        await input('input/drag', { startX: p!.x, startY: p!.y, endX: s.to!.x, endY: s.to!.y, button: 1, steps: 20 });
        return;
      case 'scroll':
        if (p) await input('mouse/move', { x: p.x, y: p.y }); // scroll acts at the pointer [R:42323]
        await input('mouse/scroll', { direction: s.direction ?? 'down', clicks: s.amount ?? 5 });
        return;
      case 'type':
      case 'key':
        if (p) await input('input/click-at', { x: p.x, y: p.y, button: 1 });
        if (s.action === 'type') await input('keyboard/type', { text: s.text });
        else await input('keyboard/key', { keys: s.keys!.map(xKey) });
        return;
    }
  }

  async windows(c: string, display: number, signal?: AbortSignal) {
    await this.ensure(c, display, signal);
    return this.forgetOnFailure(c, display, this.kit.windows(c, display, signal));
  }

  window(c: string, display: number, op: 'focus' | 'close', id: number, signal?: AbortSignal): Promise<void> {
    return this.serial(c, display, async () => {
      await this.ensure(c, display, signal);
      await this.forgetOnFailure(c, display, this.kit.window(c, display, op, id, signal));
    });
  }

  /** A display that is gone (503) is made again on next use. */
  private async forgetOnFailure<T>(c: string, display: number, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (!(err instanceof HoodyError) || err.code !== 'DISPLAY_NOT_AVAILABLE') throw err;
      this.#ready.delete(`${c}:${display}`);
      if (displayTerminal(display) !== undefined) throw err;
      throw new HoodyError({
        kind: 'not_found', source: 'display', status: err.status, code: err.code,
        message: `display ${display} is not running, and displays from ${JOB_TERMINAL_IDS.min} up are not started here (their terminal ids are command jobs'): start it yourself (Xvfb :${display}) or use a display below ${JOB_TERMINAL_IDS.min}`,
      });
    }
  }
}
