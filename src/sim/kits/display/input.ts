/**
 * The display kit's input verbs (seed-kits-browser-display.md §2.5), each a function of its JSON
 * body: validated with the documented limits (400 `VALIDATION_ERROR`), run through the display's
 * queue with xdotool, answered `{success, action, details}`. `input/act` and `input/batch` call the
 * same table by `<service>/<verb>` name.
 */
import { KitError } from '../base.js';
import type { XServer } from './xserver.js';

export type Body = Record<string, unknown>;
export interface InputResult {
  action: string;
  details: Record<string, unknown>;
}

const bad = (message: string) => new KitError(400, message, { code: 'VALIDATION_ERROR' });

function int(b: Body, key: string, opts: { min: number; max: number; dflt?: number }): number {
  const v = b[key] ?? opts.dflt;
  if (v === undefined) throw bad(`${key} is required`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < opts.min || v > opts.max) throw bad(`${key} must be an integer from ${opts.min} to ${opts.max}`);
  return v;
}

const coord = (b: Body, key: string) => int(b, key, { min: -65535, max: 65535 });
const button = (b: Body) => int(b, 'button', { min: 1, max: 7, dflt: 1 });

function text(b: Body): string {
  if (typeof b.text !== 'string' || b.text === '') throw bad('text is required');
  if (b.text.length > 10_000) throw bad('text must be at most 10000 characters');
  return b.text;
}

function keys(b: Body): string[] {
  const k = b.keys;
  if (!Array.isArray(k) || k.length < 1 || k.length > 20 || !k.every((s) => typeof s === 'string' && s.length >= 1 && s.length <= 100)) {
    throw bad('keys must be 1-20 key names of at most 100 characters');
  }
  return k as string[];
}

const SCROLL: Record<string, number> = { up: 4, down: 5, left: 6, right: 7 };

type Verb = (x: XServer, b: Body) => Promise<InputResult>;

export const VERBS: Record<string, Verb> = {
  'input/click-at': async (x, b) => {
    const [px, py, btn] = [coord(b, 'x'), coord(b, 'y'), button(b)];
    await x.input(() => x.xdo(['mousemove', '--sync', String(px), String(py), 'click', String(btn)]));
    return { action: 'click', details: { x: px, y: py, button: btn } };
  },
  'input/drag': async (x, b) => {
    const [sx, sy, ex, ey, btn] = [coord(b, 'startX'), coord(b, 'startY'), coord(b, 'endX'), coord(b, 'endY'), button(b)];
    const steps = int(b, 'steps', { min: 1, max: 1000, dflt: 10 });
    const path: string[] = [];
    for (let i = 1; i <= steps; i++) path.push('mousemove', String(Math.round(sx + ((ex - sx) * i) / steps)), String(Math.round(sy + ((ey - sy) * i) / steps)));
    await x.input(() => x.xdo(['mousemove', '--sync', String(sx), String(sy), 'mousedown', String(btn), ...path, 'mouseup', String(btn)]));
    return { action: 'drag', details: { startX: sx, startY: sy, endX: ex, endY: ey, button: btn, steps } };
  },
  'mouse/move': async (x, b) => {
    const [px, py] = [coord(b, 'x'), coord(b, 'y')];
    await x.input(() => x.xdo(['mousemove', '--sync', String(px), String(py)]));
    return { action: 'mouse-move', details: { x: px, y: py } };
  },
  'mouse/click': async (x, b) => {
    const [btn, repeat, delay] = [button(b), int(b, 'repeat', { min: 1, max: 100, dflt: 1 }), int(b, 'delay', { min: 0, max: 5000, dflt: 50 })];
    await x.input(() => x.xdo(['click', '--repeat', String(repeat), '--delay', String(delay), String(btn)]));
    return { action: 'click', details: { button: btn, repeat } };
  },
  'mouse/double-click': async (x, b) => {
    const btn = button(b);
    await x.input(() => x.xdo(['click', '--repeat', '2', '--delay', '60', String(btn)]));
    return { action: 'double-click', details: { button: btn } };
  },
  'mouse/scroll': async (x, b) => {
    const direction = String(b.direction ?? '');
    if (!(direction in SCROLL)) throw bad('direction must be up, down, left or right');
    const clicks = int(b, 'clicks', { min: 1, max: 100, dflt: 5 });
    await x.input(() => x.xdo(['click', '--repeat', String(clicks), '--delay', '20', String(SCROLL[direction])]));
    return { action: 'scroll', details: { direction, clicks } };
  },
  'keyboard/type': async (x, b) => {
    const [t, delay] = [text(b), int(b, 'delay', { min: 0, max: 1000, dflt: 12 })];
    await x.input(() => x.xdo(['type', '--delay', String(delay), '--', t]));
    return { action: 'type', details: { length: t.length, delay } };
  },
  'keyboard/key': async (x, b) => {
    const [k, delay] = [keys(b), int(b, 'delay', { min: 0, max: 5000, dflt: 12 })];
    await x.input(() => x.xdo(['key', '--delay', String(delay), '--', ...k]));
    return { action: 'key', details: { keys: k } };
  },
  'input/wait': async (x, b) => {
    const ms = int(b, 'ms', { min: 50, max: 30_000 });
    await x.input(() => new Promise((r) => setTimeout(r, ms)));
    return { action: 'wait', details: { ms } };
  },
  'input/reset': async (x) => {
    await x.input(() => x.xdo(['mouseup', '1', 'mouseup', '2', 'mouseup', '3', 'keyup', 'shift', 'ctrl', 'alt', 'super']));
    return { action: 'reset', details: { message: 'All modifier keys and mouse buttons released' } };
  },
};
