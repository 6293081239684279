/**
 * The display toolset in-process against real X servers (Xvfb + xdotool + scrot, the Tk stand-in
 * desktop): frames scale a 2560×1440 canvas within the model's limits, a click in a frame lands
 * where it was meant on the canvas (read back from the desktop's own record and the X pointer), a
 * frame of another resolution is refused with nothing done, replies stay ≤ 400 bytes, windows
 * list/focus/close, hostile input refused.
 */
import { describe, expect, it } from 'vitest';
import { fitSize, toOriginal, toScaled } from '../../src/mcp/image.js';
import { displayViewer } from '../helpers/display.js';
import { call, useInproc } from '../helpers/inproc.js';
import { everyToolChecks } from './catalogue.js';

const t = useInproc();
const D = 1601;

const { kit, resize, pointer, expectClickLanded } = displayViewer(() => t.sim, D);

describe('display toolset', () => {
  it('screenshot of a 2560×1440 display is scaled within limits and names its frame', async () => {
    expect((await call(t.c.client, 'display_windows', { action: 'list' })).isError).toBe(false); // makes the desktop
    expect((await resize(2560, 1440)).status).toBe(200);
    const r = await call(t.c.client, 'display_screenshot', {});
    expect(r.isError, r.text).toBe(false);
    const s = r.structured as { frame: string; width: number; height: number; scale: number };
    expect(Math.max(s.width, s.height)).toBeLessThanOrEqual(1568);
    expect(s.width * s.height).toBeLessThanOrEqual(1_150_000);
    expect(s.width / s.height).toBeCloseTo(2560 / 1440, 2);
    expect(r.content.filter((c) => c.type === 'image')).toHaveLength(1);
    expect(r.text).toMatch(new RegExp(`^frame ${s.frame} · display 1601 2560×1440 · \\d+×\\d+ JPEG`));
  });

  it('a click in the frame lands within 2 px of the intended canvas point, and says the pixels changed, in ≤ 400 bytes', async () => {
    const shot = (await call(t.c.client, 'display_screenshot', {})).structured as { frame: string; width: number; height: number };
    const frame = { width: shot.width, height: shot.height, original: { width: 2560, height: 1440 } };
    const target = { x: 1733, y: 1021 };
    const p = toScaled(frame, target.x, target.y);
    const r = await call(t.c.client, 'display_act', { action: 'click', x: p.x, y: p.y, frame: shot.frame });
    expect(r.isError, r.text).toBe(false);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(400);
    expect(r.text).toMatch(/pixels around the point changed/);
    await expectClickLanded(target); // the X pointer and the desktop's own record of the press
    // Moving over empty desktop changes nothing there.
    const m = await call(t.c.client, 'display_act', { action: 'move', x: 20, y: shot.height - 20 });
    expect(m.text).toMatch(/pixels around the point unchanged/);
  });

  it('a frame from another resolution is refused, the default one included, and nothing is done', async () => {
    const old = (await call(t.c.client, 'display_screenshot', {})).structured as { frame: string };
    expect((await resize(1920, 1080)).status).toBe(200);
    const before = await pointer();
    for (const args of [{ frame: old.frame }, {}]) {
      const r = await call(t.c.client, 'display_act', { action: 'click', x: 400, y: 300, ...args });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(new RegExp(`frame ${old.frame} was taken at 2560×1440, but display 1601 is now 1920×1080.*call display_screenshot`));
    }
    expect(await pointer()).toEqual(before);
    const fresh = (await call(t.c.client, 'display_screenshot', {})).structured as { frame: string; width: number; height: number };
    expect(fresh).toMatchObject({ width: fitSize(1920, 1080).width, height: fitSize(1920, 1080).height });
    expect((await call(t.c.client, 'display_act', { action: 'click', x: 400, y: 300 })).isError).toBe(false);
    expect(await pointer()).toMatchObject(toOriginal({ ...fresh, original: { width: 1920, height: 1080 } }, 400, 300));
  });

  it('keys and typing go to the focused window; windows list, focus and close', async () => {
    const list = await call(t.c.client, 'display_windows', { action: 'list' });
    const notes = /^(\d+)\*?\s.*"Notes"/m.exec(list.text);
    expect(notes, list.text).toBeTruthy();
    const focus = await call(t.c.client, 'display_windows', { action: 'focus', window: Number(notes![1]) });
    expect(focus.text).toMatch(new RegExp(`^focused ${notes![1]}; \\d+ windows[\\s\\S]*${notes![1]}\\*`));
    const typed = await call(t.c.client, 'display_act', { action: 'type', text: 'hello display' });
    expect(typed.text).toMatch(/^type · screen changed/);
    expect(Buffer.byteLength(typed.text)).toBeLessThanOrEqual(400);
    const key = await call(t.c.client, 'display_act', { action: 'key', keys: ['ctrl+a', 'Backspace'] });
    expect(key.isError, key.text).toBe(false);
    const closed = await call(t.c.client, 'display_windows', { action: 'close', window: Number(notes![1]) });
    expect(closed.text).toMatch(/^closed \d+; \d+ windows/);
    expect(closed.text).not.toContain('"Notes"');
    const again = await call(t.c.client, 'display_windows', { action: 'close', window: Number(notes![1]) });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/Window not found/);
  });

  it('refuses hostile input with what to do', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ action: 'click', x: 99_999, y: 5 }, /outside frame f\d+ \(1429×804\)/],
      [{ action: 'click', x: 5 }, /pass both x and y/],
      [{ action: 'drag', x: 5, y: 5 }, /drag needs to_x and to_y/],
      [{ action: 'key' }, /key needs keys/],
      [{ action: 'click', x: 1, y: 1, frame: 'f999999' }, /unknown frame "f999999".*call display_screenshot/],
      [{ action: 'click', x: 1, y: 1, frame: '../../etc' }, /unknown frame/],
      [{ action: 'key', keys: ['NoSuchKey'] }, /Unknown keysym: NoSuchKey/],
      [{ action: 'key', keys: ['x'.repeat(5000)] }, /keys must be 1-20 key names of at most 100 characters/],
      [{ action: 'type', text: 'x'.repeat(10_001) }, /too_big|at most|10000/i],
      [{ action: 'click', x: 1, y: 1, display: 7 }, /no screenshot of display 7 yet.*call display_screenshot \(display 7\)/],
      [{ action: 'click', x: 1, y: 1, display: 1_000_000 }, /./],
    ];
    for (const [args, re] of cases) {
      const r = await call(t.c.client, 'display_act', args);
      expect(r.isError, JSON.stringify(args).slice(0, 80)).toBe(true);
      expect(r.text).toMatch(re);
      expect(r.text).not.toMatch(/localhost|containers\.|at .*\.js:\d+/);
    }
    const region = await call(t.c.client, 'display_screenshot', { region: { x: 50_000, y: 0, width: 10, height: 10 } });
    expect(region.text).toMatch(/region starts outside display 1601 \(1920×1080\)/);
    const frameOfOther = (await call(t.c.client, 'display_screenshot', { display: 1602, region: { x: 0, y: 0, width: 64, height: 64 } })).structured as { frame: string };
    const wrong = await call(t.c.client, 'display_act', { action: 'click', x: 1, y: 1, frame: frameOfOther.frame });
    expect(wrong.text).toMatch(new RegExp(`frame ${frameOfOther.frame} is of display 1602, not display 1601`));
  });

  it("display ids pair with terminal ids exec's jobs never use: from 20000 up a display is driven if it runs, never made", async () => {
    expect((await call(t.c.client, 'display_windows', { action: 'list' })).isError).toBe(false); // makes the desktop
    const run = await call(t.c.client, 'exec_run', { command: 'sleep 20', wait_s: 0.1 });
    const job = (run.structured as { job: string }).job;
    const T = Number(job.split('-')[0]);
    expect(T).toBeGreaterThanOrEqual(20_000);
    expect(T).toBeLessThanOrEqual(39_999);
    const from = t.sim.requests.length;
    const r = await call(t.c.client, 'display_screenshot', { display: T });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(new RegExp(`display ${T} is not running, and displays from 20000 up are not started here`));
    expect(t.sim.requests.slice(from).filter((q) => q.path === '/api/v1/terminal/create')).toEqual([]);
    const sessions = ((await kit('GET', '/api/v1/terminal/sessions', undefined, 'terminal')).json as { id: number }[]).map((s) => Number(s.id));
    expect(sessions).toContain(1601); // the desktop: display N made by terminal session N below 20000
    expect(sessions.filter((id) => id >= 20_000)).toEqual([T]); // the job's session alone
    expect((await call(t.c.client, 'exec_cancel', { job })).isError).toBe(false);
    // A display from 20000 up that someone else started is driven like any other.
    expect((await kit('POST', '/api/v1/terminal/create', { terminal_id: '77', display: '25000' }, 'terminal')).status).toBe(200);
    const shot = await call(t.c.client, 'display_screenshot', { display: 25_000, region: { x: 0, y: 0, width: 32, height: 32 } });
    expect(shot.isError, shot.text).toBe(false);
    expect(shot.text).toMatch(/display 25000 1920×1080 of 32×32\+0\+0/);
  });

  it('a region screenshot maps its coordinates back into the canvas', async () => {
    const r = await call(t.c.client, 'display_screenshot', { region: { x: 600, y: 500, width: 200, height: 100 } });
    const s = r.structured as { frame: string; width: number; scale: number };
    expect(s).toMatchObject({ width: 200, scale: 1 });
    const act = await call(t.c.client, 'display_act', { action: 'click', x: 10, y: 20, frame: s.frame });
    expect(act.text).toMatch(/canvas \(610,520\)/);
    expect(await pointer()).toMatchObject({ x: 610, y: 520 });
  });
});

everyToolChecks(t, 'display');
