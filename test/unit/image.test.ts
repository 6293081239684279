import { build } from 'esbuild';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { describeImage, imageContent, ImageError, MAX_PIXELS, MAX_SIDE, scaleImage, toOriginal, toScaled } from '../../src/mcp/image.js';

type RGB = [number, number, number];

/**
 * A UI-like screenshot, drawn without fonts so it is the same everywhere: a header bar, a sidebar
 * of nav items, paragraphs, buttons, a table-like block, and a photo-like panel (a gradient with
 * noise). The "letters" are 2–4 strokes each, anti-aliased by a slight blur: at 1280×720 it
 * encodes within ~15% of the same layout rendered with a real font (measured with DejaVu Sans).
 */
async function uiLike(w: number, h: number): Promise<Buffer> {
  let seed = 7;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const px = Buffer.alloc(w * h * 3, 255);
  const put = (x: number, y: number, c: RGB) => {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    px.set(c.map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * w + x) * 3);
  };
  const fill = (x0: number, y0: number, x1: number, y1: number, c: RGB) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) put(x, y, c);
  };
  const letters = Array.from({ length: 26 }, () =>
    Array.from({ length: 2 + Math.floor(rnd() * 3) }, () => [rnd() * 6, rnd() * 9, rnd() * 6, rnd() * 9].map(Math.floor)),
  );
  const text = (x0: number, y0: number, width: number, lines: number, c: RGB, step: number) => {
    for (let l = 0; l < lines; l++) {
      const end = x0 + width * (0.5 + rnd() * 0.5);
      for (let x = x0 + 7; x + 7 < end; x += 7) {
        if (rnd() < 0.18) continue; // a space
        for (const [ax, ay, bx, by] of letters[Math.floor(rnd() * 26)]!) {
          const n = Math.max(Math.abs(bx! - ax!), Math.abs(by! - ay!), 1);
          for (let t = 0; t <= n; t++) put(x + Math.round(ax! + ((bx! - ax!) * t) / n), y0 + l * step + Math.round(ay! + ((by! - ay!) * t) / n), c);
        }
      }
    }
  };
  // Laid out for 1280×720 and repeated as a grid on larger canvases.
  for (let oy = 0; oy < h; oy += 720) {
    for (let ox = 0; ox < w; ox += 1280) {
      fill(ox, oy, ox + 1280, oy + 48, [32, 36, 48]);
      text(ox + 20, oy + 19, 140, 1, [235, 235, 240], 18);
      fill(ox, oy + 48, ox + 220, oy + 720, [243, 244, 246]);
      text(ox + 16, oy + 72, 180, 30, [70, 70, 85], 20);
      text(ox + 250, oy + 72, 520, 18, [30, 30, 30], 19);
      for (let i = 0; i < 4; i++) {
        fill(ox + 250 + i * 130, oy + 430, ox + 360 + i * 130, oy + 466, [37, 99, 235]);
        text(ox + 262 + i * 130, oy + 444, 70, 1, [255, 255, 255], 18);
      }
      text(ox + 250, oy + 494, 990, 12, [50, 50, 50], 18);
      for (let y = oy + 70; y < oy + 400; y++) {
        for (let x = ox + 800; x < ox + 1240; x++) {
          const n = (rnd() - 0.5) * 16;
          const t = (x - ox - 800) / 440;
          put(x, y, [170 - 120 * t + n, 100 + 50 * t + n, 50 + 150 * t + n]);
        }
      }
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).blur(0.5).png().toBuffer();
}

const solid = (width: number, height: number, background: string | { r: number; g: number; b: number; alpha: number }, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background } });

/** The RGB(A) of one pixel of an encoded image. */
async function pixel(img: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(img).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [...data.subarray(i, i + info.channels)];
}

/** The first channels of `got` (RGB, any alpha ignored) are each within `tol` of `want`. */
const near = (got: number[], want: RGB, tol = 12) => want.every((v, i) => Math.abs(got[i]! - v) <= tol);

describe('scaleImage', () => {
  it('keeps a 1280×720 UI-like screenshot at full size as a JPEG of at most 80 KB', async () => {
    const png = await uiLike(1280, 720);
    const t0 = performance.now();
    const img = await scaleImage(png);
    const ms = performance.now() - t0;
    expect(img).toMatchObject({ mimeType: 'image/jpeg', width: 1280, height: 720, scale: 1 });
    expect(img.original).toEqual({ width: 1280, height: 720, bytes: png.length, mimeType: 'image/png' });
    expect(img.data.length).toBeLessThanOrEqual(80 * 1024);
    expect((await sharp(img.data).metadata()).format).toBe('jpeg');
    console.log(`1280×720 UI-like: PNG ${png.length} B → JPEG ${img.data.length} B in ${ms.toFixed(0)} ms`);
  });

  it('scales 2560×1440 to ≤ 1568 px and ≤ 1.15 MP with the scale it used', async () => {
    const png = await uiLike(2560, 1440);
    const t0 = performance.now();
    const img = await scaleImage(png);
    const ms = performance.now() - t0;
    expect(Math.max(img.width, img.height)).toBeLessThanOrEqual(MAX_SIDE);
    expect(img.width * img.height).toBeLessThanOrEqual(MAX_PIXELS);
    expect(img.width * img.height).toBeGreaterThan(MAX_PIXELS * 0.99); // as large as allowed, no smaller
    expect(img.scale).toBeCloseTo(Math.sqrt(MAX_PIXELS / (2560 * 1440)), 6);
    expect(img.width).toBe(Math.floor(2560 * img.scale));
    expect(img.height).toBe(Math.floor(1440 * img.scale));
    const meta = await sharp(img.data).metadata();
    expect([meta.width, meta.height]).toEqual([img.width, img.height]);
    expect(img.original).toMatchObject({ width: 2560, height: 1440 });
    expect(describeImage(img)).toMatch(/^1429×804 JPEG \d+ KB \(×0\.559 of 2560×1440 PNG 1\.\d MB\)$/);
    expect(imageContent(img)).toEqual({ type: 'image', mimeType: 'image/jpeg', data: img.data.toString('base64') });
    console.log(`2560×1440 UI-like: PNG ${png.length} B → ${img.width}×${img.height} JPEG ${img.data.length} B in ${ms.toFixed(0)} ms`);
  });

  it('bounds the long side of a tall portrait image, keeping its aspect', async () => {
    const img = await scaleImage(await solid(800, 3000, '#336699').png().toBuffer());
    expect(img.height).toBe(MAX_SIDE);
    expect(img.width).toBe(Math.floor(800 * (MAX_SIDE / 3000)));
    expect(img.scale).toBeCloseTo(MAX_SIDE / 3000, 6);
  });

  it('never upscales a tiny image', async () => {
    const img = await scaleImage(await solid(16, 9, '#ff0000').png().toBuffer());
    expect(img).toMatchObject({ width: 16, height: 9, scale: 1 });
    expect((await sharp(img.data).metadata()).width).toBe(16);
    expect(describeImage(img)).toMatch(/^16×9 JPEG \d+ B \(from 16×9 PNG \d+ B\)$/);
  });

  it('returns PNG on request, keeping alpha', async () => {
    const input = await solid(300, 200, { r: 0, g: 128, b: 0, alpha: 0.5 }, 4).png().toBuffer();
    const img = await scaleImage(input, { format: 'png' });
    expect(img.mimeType).toBe('image/png');
    const meta = await sharp(img.data).metadata();
    expect([meta.format, meta.hasAlpha]).toEqual(['png', true]);
  });

  it('flattens transparency onto white for JPEG', async () => {
    // Transparent everywhere except an opaque black square in the middle.
    const input = await solid(100, 100, { r: 0, g: 0, b: 0, alpha: 0 }, 4)
      .composite([{ input: await solid(20, 20, '#000000').png().toBuffer(), left: 40, top: 40 }])
      .png()
      .toBuffer();
    const img = await scaleImage(input);
    expect(near(await pixel(img.data, 5, 5), [255, 255, 255])).toBe(true);
    expect(near(await pixel(img.data, 50, 50), [0, 0, 0])).toBe(true);
  });

  it('honours EXIF orientation', async () => {
    // Stored 200×100, red on the left half; orientation 6 means "rotate 90° clockwise to show".
    const stored = await solid(200, 100, '#0000ff')
      .composite([{ input: await solid(100, 100, '#ff0000').png().toBuffer(), left: 0, top: 0 }])
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await scaleImage(stored, { format: 'png' });
    expect([img.width, img.height]).toEqual([100, 200]);
    expect(img.original).toMatchObject({ width: 100, height: 200, mimeType: 'image/jpeg' });
    expect(near(await pixel(img.data, 50, 10), [255, 0, 0], 40)).toBe(true); // left half is now the top
    expect(near(await pixel(img.data, 50, 190), [0, 0, 255], 40)).toBe(true);
  });

  it('reads GIF (first frame) and WebP', async () => {
    const frames = await solid(40, 60, '#ff0000', 4)
      .composite([{ input: await solid(40, 30, '#0000ff', 4).png().toBuffer(), left: 0, top: 30 }])
      .raw()
      .toBuffer();
    const gif = await sharp(frames, { raw: { width: 40, height: 60, channels: 4, pageHeight: 30 } }).gif({ loop: 0, delay: [100, 100] }).toBuffer();
    const fromGif = await scaleImage(gif, { format: 'png' });
    expect(fromGif.original).toMatchObject({ width: 40, height: 30, mimeType: 'image/gif' });
    expect([fromGif.width, fromGif.height]).toEqual([40, 30]);
    expect(near(await pixel(fromGif.data, 20, 25), [255, 0, 0])).toBe(true);

    const webp = await solid(3000, 1000, '#00ff00').webp().toBuffer();
    const fromWebp = await scaleImage(webp);
    expect(fromWebp.original.mimeType).toBe('image/webp');
    expect(fromWebp.width).toBe(MAX_SIDE);
  });

  it('refuses garbage with a clear error, not a libvips trace', async () => {
    const err = await scaleImage(Buffer.from('this is not an image at all, just text\n')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).message).toMatch(/^not a readable image \(39 bytes\): no valid PNG, JPEG, GIF or WebP header$/);
    expect((err as ImageError).hint).toBeTruthy();
    await expect(scaleImage(Buffer.alloc(0))).rejects.toThrow(/empty/);
    const jpeg = await solid(200, 200, '#123456').jpeg().toBuffer();
    await expect(scaleImage(jpeg.subarray(0, 300))).rejects.toThrow(/could not be decoded/);
  });

  it('refuses an oversize image before decoding it, naming the limit', async () => {
    // 10000×6000 is 60 MP: over the default 50 MP limit. A flat PNG of it is only a few KB.
    const bomb = await solid(10_000, 6_000, '#ffffff').png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expect(scaleImage(bomb)).rejects.toThrow(/10000×6000 \(60 MP\), over the 50 MP decoding limit/);
    await expect(scaleImage(await solid(300, 300, '#fff').png().toBuffer(), { maxInputPixels: 50_000 })).rejects.toThrow(/0\.1 MP decoding limit/);
  });

  it('steps quality, then size, down to a byte ceiling', async () => {
    const png = await uiLike(1280, 720);
    const full = await scaleImage(png);
    const img = await scaleImage(png, { maxBytes: 20_000 });
    expect(img.data.length).toBeLessThanOrEqual(20_000);
    expect(img.width).toBeLessThan(1280);
    expect(img.scale).toBeCloseTo(img.width / 1280, 2);
    const lighter = await scaleImage(png, { maxBytes: full.data.length - 1 });
    expect(lighter.width).toBe(1280); // a lower quality was enough
    expect(lighter.data.length).toBeLessThan(full.data.length);
    await expect(scaleImage(png, { maxBytes: 100 })).rejects.toThrow(/could not fit the image into 100 bytes/);
  });

  it('keeps an input that needs no change, on request', async () => {
    const small = await solid(400, 300, '#123456').png().toBuffer();
    const kept = await scaleImage(small, { keep: true });
    expect(kept.data).toBe(small);
    expect(kept).toMatchObject({ mimeType: 'image/png', width: 400, height: 300, scale: 1 });
    expect((await scaleImage(small)).mimeType).toBe('image/jpeg'); // without keep: re-encoded
    expect((await scaleImage(small, { keep: true, maxBytes: small.length - 1 })).data).not.toBe(small);
    const big = await solid(2000, 1000, '#123456').png().toBuffer();
    expect((await scaleImage(big, { keep: true })).scale).toBeLessThan(1);
    const rotated = await solid(20, 10, '#123456').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const upright = await scaleImage(rotated, { keep: true });
    expect(upright.data).not.toBe(rotated);
    expect([upright.width, upright.height]).toEqual([10, 20]);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(scaleImage(await solid(10, 10, '#fff').png().toBuffer(), { signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});

describe('coordinate mapping', () => {
  it('maps a mark in the scaled frame back to where it is in the original, within 1 px', async () => {
    const marks = [
      [1003, 602],
      [0, 0],
      [2552, 1432],
    ];
    const base = solid(2560, 1440, '#ffffff');
    const png = await base
      .composite(await Promise.all(marks.map(async ([x, y]) => ({ input: await solid(8, 8, '#ff0000').png().toBuffer(), left: x!, top: y! }))))
      .png()
      .toBuffer();
    const img = await scaleImage(png, { format: 'png' });
    const { data, info } = await sharp(img.data).raw().toBuffer({ resolveWithObject: true });
    for (const [mx, my] of marks) {
      // The red mark's centre in the original, found again in the scaled image and mapped back.
      const at = toScaled(img, mx! + 4, my! + 4);
      let sx = 0, sy = 0, n = 0;
      for (let y = Math.max(0, at.y - 6); y <= Math.min(info.height - 1, at.y + 6); y++) {
        for (let x = Math.max(0, at.x - 6); x <= Math.min(info.width - 1, at.x + 6); x++) {
          const i = (y * info.width + x) * info.channels;
          const red = 255 - data[i + 1]!; // how far from white toward red
          sx += (x + 0.5) * red;
          sy += (y + 0.5) * red;
          n += red;
        }
      }
      const back = toOriginal(img, sx / n - 0.5, sy / n - 0.5);
      expect(Math.abs(back.x - (mx! + 4))).toBeLessThanOrEqual(1);
      expect(Math.abs(back.y - (my! + 4))).toBeLessThanOrEqual(1);
    }
  });

  it('round-trips every scaled pixel exactly and every original pixel within one scaled step', async () => {
    const frame = { width: 1429, height: 804, original: { width: 2560, height: 1440 } };
    for (let x = 0; x < frame.width; x++) expect(toScaled(frame, toOriginal(frame, x, 0).x, 0).x).toBe(x);
    for (let y = 0; y < frame.height; y++) expect(toScaled(frame, 0, toOriginal(frame, 0, y).y).y).toBe(y);
    const step = frame.original.width / frame.width;
    for (let x = 0; x < frame.original.width; x += 7) expect(Math.abs(toOriginal(frame, toScaled(frame, x, 0).x, 0).x - x)).toBeLessThanOrEqual(step);
    expect(toOriginal(frame, 5000, -3)).toEqual({ x: 2559, y: 0 }); // clamped into the frame
  });
});

describe('bundling', () => {
  it('leaves sharp out of the bundle, loaded by a dynamic import on first use', async () => {
    // @ts-expect-error: a plain .mjs script without types
    const { options } = (await import('../../scripts/bundle.mjs')) as { options: Record<string, unknown> };
    const r = await build({ ...options, entryPoints: ['src/mcp/image.ts'], splitting: false, write: false, metafile: true, sourcemap: false, legalComments: 'none', outdir: 'unused' });
    expect(Object.keys(r.metafile.inputs).filter((f) => f.includes('node_modules'))).toEqual([]);
    const code = r.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
    expect(code).toMatch(/await import\("sharp"\)|import\("sharp"\)/);
    expect(code).not.toMatch(/^import .*from "sharp"/m); // no static import: start-up never loads it
  });
});
