/**
 * What a person's viewer does with a simulated display, for the display tests: ask its kit
 * directly, resize the canvas (as Xpra does), read the X pointer and the stand-in desktop's own
 * record of the last button press, and check that a click landed where it was meant.
 */
import { expect } from 'vitest';
import { request } from '../../src/core/http.js';
import type { Sim } from '../../src/sim/index.js';
import { waitFor } from './shared.js';

export function displayViewer(sim: () => Sim, display: number) {
  async function kit(method: string, path: string, body?: unknown, slug = 'display'): Promise<{ status: number; json: any }> {
    const s = sim();
    const res = await request({ method, url: new URL(path, s.kitUrl(s.containerId, slug)), source: 'test', body, retry: { attempts: 1 } });
    const text = await res.body.text();
    return { status: res.status, json: /^[{[]/.test(text) ? JSON.parse(text) : text };
  }
  const resize = (w: number, h: number) => kit('GET', `/api/v1/display/?displayId=${display}&override_width=${w}&override_height=${h}`);
  const pointer = async () => (await kit('GET', `/api/v1/display/mouse/location?displayId=${display}`)).json as { x: number; y: number };
  const desktopTitle = async () =>
    ((await kit('GET', `/api/v1/display/windows?displayId=${display}`)).json.windows as { name: string }[]).find((w) => w.name.startsWith('Desktop'))?.name;
  /** The X pointer and the desktop's record of its last button press are within 2 px of `target` (canvas pixels). */
  async function expectClickLanded(target: { x: number; y: number }): Promise<void> {
    const at = await pointer();
    expect(Math.abs(at.x - target.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(at.y - target.y)).toBeLessThanOrEqual(2);
    const title = await waitFor('the desktop to record the click', async () => /b1 (\d+),(\d+)/.exec((await desktopTitle()) ?? ''));
    expect(Math.abs(Number(title[1]) - target.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(Number(title[2]) - target.y)).toBeLessThanOrEqual(2);
  }
  return { kit, resize, pointer, desktopTitle, expectClickLanded };
}
