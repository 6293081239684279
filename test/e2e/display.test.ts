/**
 * The display toolset through the built binary, over stdio and over HTTP, against one simulator
 * with real X servers (each transport on its own display, so they never share a canvas): a
 * screenshot of a 2560×1440 display scaled within the model's limits, a click in that frame landing
 * within 2 px of the intended canvas point (read back from the X pointer and the stand-in desktop's
 * own record of the press), a frame from another resolution refused with nothing done, and every
 * display_act reply ≤ 400 bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toScaled } from '../../src/mcp/image.js';
import type { Sim } from '../../src/sim/index.js';
import { displayViewer } from '../helpers/display.js';
import { call, connectHttp, connectStdio, simFor, startHttpServer, type Connected, type HttpServer } from '../helpers/harness.js';

let sim: Sim;
let http: HttpServer;
beforeAll(async () => {
  sim = await simFor();
  http = await startHttpServer(sim, { args: ['--container', sim.containerId] });
});
afterAll(async () => {
  await http?.close();
  await sim?.close();
});

const CONNECT = {
  stdio: () => connectStdio(sim, { args: ['--container', sim.containerId] }),
  http: () => connectHttp(http.url, sim.token),
};

describe.each([
  ['stdio', 1601],
  ['http', 1602],
] as const)('display over %s (display %i)', (transport, D) => {
  let c: Connected;
  beforeAll(async () => {
    c = await CONNECT[transport]();
  });
  afterAll(async () => c?.close());

  const { resize, pointer, desktopTitle, expectClickLanded } = displayViewer(() => sim, D);

  it('a 2560×1440 screenshot is scaled within limits; a click in its frame lands within 2 px; a frame of another resolution is refused with nothing done', async () => {
    // The first call makes the display (through the terminal kit), then a viewer resizes it.
    expect((await call(c.client, 'display_windows', { action: 'list', display: D })).isError).toBe(false);
    expect((await resize(2560, 1440)).status).toBe(200);

    const shot = await call(c.client, 'display_screenshot', { display: D });
    expect(shot.isError, shot.text).toBe(false);
    const s = shot.structured as { frame: string; width: number; height: number; display: number };
    expect(s.display).toBe(D);
    expect(Math.max(s.width, s.height)).toBeLessThanOrEqual(1568);
    expect(s.width * s.height).toBeLessThanOrEqual(1_150_000);
    const img = shot.content.find((x) => x.type === 'image') as { data: string; mimeType: string } | undefined;
    expect(img?.mimeType).toBe('image/jpeg');
    expect(shot.text).toMatch(new RegExp(`^frame ${s.frame} · display ${D} 2560×1440 · ${s.width}×${s.height} JPEG`));

    const target = { x: 1733, y: 1021 };
    const p = toScaled({ width: s.width, height: s.height, original: { width: 2560, height: 1440 } }, target.x, target.y);
    const click = await call(c.client, 'display_act', { action: 'click', x: p.x, y: p.y, frame: s.frame, display: D });
    expect(click.isError, click.text).toBe(false);
    expect(Buffer.byteLength(click.text)).toBeLessThanOrEqual(400);
    expect(click.text).toMatch(/pixels around the point changed/);
    await expectClickLanded(target);

    // Another viewer makes the canvas 1920×1080: the old frame (named, or by default) is refused.
    expect((await resize(1920, 1080)).status).toBe(200);
    const before = { pointer: await pointer(), title: await desktopTitle() };
    for (const frame of [{ frame: s.frame }, {}]) {
      const r = await call(c.client, 'display_act', { action: 'click', x: 400, y: 300, display: D, ...frame });
      expect(r.isError).toBe(true);
      expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(400);
      expect(r.text).toMatch(new RegExp(`frame ${s.frame} was taken at 2560×1440, but display ${D} is now 1920×1080.*nothing was done.*call display_screenshot`));
    }
    expect({ pointer: await pointer(), title: await desktopTitle() }).toEqual(before);
  });
});
