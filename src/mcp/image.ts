/**
 * The one image scaler for every tool that returns an image (file_read, browser_screenshot,
 * display_screenshot). Longest side ≤ 1568 px and ≤ 1.15 MP, aspect kept, never upscaled, as the
 * models want them; JPEG by default (mozjpeg, quality 50: a text-heavy 1280×720 screenshot is
 * ~70–85 KB and stays legible), PNG on request. The result reports both frames so a tool can map
 * coordinates from the scaled image back to the original (toOriginal / toScaled).
 *
 * sharp (native libvips) is loaded on first use only: start-up never pays for it, and the bundle
 * keeps it external (scripts/bundle.mjs).
 */
import type { ContentBlock } from '@modelcontextprotocol/server';
import type { Sharp, SharpOptions } from 'sharp';

export const MAX_SIDE = 1568;
export const MAX_PIXELS = 1_150_000;
/** Decoding limit: larger inputs are refused before they are decoded (decompression bombs). */
export const MAX_INPUT_PIXELS = 50_000_000;
export const JPEG_QUALITY = 50;
/** Encodes tried at most to get under `maxBytes`. */
const MAX_TRIES = 8;
/** libvips gives up on one pipeline after this long (a hostile file must not pin a core). */
const TIMEOUT_S = 20;

const INPUT_TYPES: Record<string, ScaledImage['mimeType']> = { jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };

export interface ImageSize {
  width: number;
  height: number;
}

/** A scaled image and the frame it was taken from; width/height are after EXIF orientation. */
export interface ScaledImage extends ImageSize {
  data: Buffer;
  /** GIF and WebP only when `keep` returned the input as it was. */
  mimeType: 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
  original: ImageSize & { bytes: number; mimeType?: string };
  /** scaled/original, ≤ 1 (each side is floor(original × scale), at least 1 px). */
  scale: number;
}

export interface ScaleOptions {
  format?: 'jpeg' | 'png';
  /**
   * Return the input itself when it needs no change: within the size limits and maxBytes, and no
   * EXIF rotation to apply (file_read: a small PNG diagram stays a lossless PNG).
   */
  keep?: boolean;
  maxSide?: number;
  maxPixels?: number;
  /** Lower quality, then size, until the encoded image fits (bounded tries), else refuse. */
  maxBytes?: number;
  /** JPEG quality 1–100 for the first try. */
  quality?: number;
  /** Refuse inputs with more pixels than this (default MAX_INPUT_PIXELS). */
  maxInputPixels?: number;
  signal?: AbortSignal;
}

/** Why an image could not be scaled, and what to do about it (as the tool errors carry it). */
export class ImageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

/** The part of a scaled image that coordinates need: a screenshot's frame. */
export type Frame = ImageSize & { original: ImageSize };

/** The MCP content block that shows a scaled image. */
export function imageContent(img: ScaledImage): ContentBlock {
  return { type: 'image', data: img.data.toString('base64'), mimeType: img.mimeType };
}

/** One line saying what was sent and what it was scaled from: `1429×804 JPEG 104 KB (×0.558 of 2560×1440 PNG 1.6 MB)`. */
export function describeImage(img: ScaledImage): string {
  const kind = (mime?: string) => (mime ?? 'image/?').slice(6).toUpperCase();
  const sent = `${img.width}×${img.height} ${kind(img.mimeType)} ${sizeOf(img.data.length)}`;
  const from = `${img.original.width}×${img.original.height} ${kind(img.original.mimeType)} ${sizeOf(img.original.bytes)}`;
  return img.scale < 1 ? `${sent} (×${img.scale.toFixed(3)} of ${from})` : `${sent} (from ${from})`;
}

const sizeOf = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** A point in the scaled image → the matching pixel of the original (its centre's pixel). */
export function toOriginal(frame: Frame, x: number, y: number): { x: number; y: number } {
  return { x: mapAxis(x, frame.width, frame.original.width), y: mapAxis(y, frame.height, frame.original.height) };
}

/** A pixel of the original → the pixel of the scaled image that shows it. */
export function toScaled(frame: Frame, x: number, y: number): { x: number; y: number } {
  return { x: mapAxis(x, frame.original.width, frame.width), y: mapAxis(y, frame.original.height, frame.height) };
}

function mapAxis(v: number, from: number, to: number): number {
  return Math.min(to - 1, Math.max(0, Math.floor(((v + 0.5) * to) / from)));
}

/** The size to scale w×h to: within maxSide and maxPixels, aspect kept, never larger. */
export function fitSize(w: number, h: number, maxSide = MAX_SIDE, maxPixels = MAX_PIXELS): ImageSize & { scale: number } {
  const scale = Math.min(maxSide / Math.max(w, h), Math.sqrt(maxPixels / (w * h)));
  if (scale >= 1) return { width: w, height: h, scale: 1 }; // never upscaled
  // The epsilon keeps a side that is exactly on its bound (3000 × 1568/3000) from flooring to 1567.
  const side = (n: number) => Math.max(1, Math.floor(n * scale + 1e-9));
  return { width: side(w), height: side(h), scale };
}

type SharpFn = (input: Buffer, options?: SharpOptions) => Sharp;
let loading: Promise<SharpFn> | undefined;

function loadSharp(): Promise<SharpFn> {
  loading ??= import('sharp').then(
    (m) => {
      m.default.cache(false); // every image is new: libvips' operation cache would only hold memory
      return m.default as unknown as SharpFn;
    },
    (err: unknown) => {
      loading = undefined;
      throw new ImageError(`image scaling is unavailable: sharp did not load (${firstLine(err)})`, 'reinstall the server so its sharp dependency is present for this platform');
    },
  );
  return loading;
}

/** Scale an image for a model: see the module comment for the limits and defaults. */
export async function scaleImage(input: Buffer, opts: ScaleOptions = {}): Promise<ScaledImage> {
  if (!input.length) throw new ImageError('the image is empty (0 bytes)');
  const sharp = await loadSharp();
  const limit = opts.maxInputPixels ?? MAX_INPUT_PIXELS;
  const decode: SharpOptions = { limitInputPixels: limit, failOn: 'error', pages: 1, autoOrient: true };
  const { rotated, ...original } = await inspect(sharp, input, limit);
  const format = opts.format ?? 'jpeg';
  let size = fitSize(original.width, original.height, opts.maxSide ?? MAX_SIDE, opts.maxPixels ?? MAX_PIXELS);
  if (opts.keep && size.scale === 1 && !rotated && input.length <= (opts.maxBytes ?? Infinity)) {
    return { data: input, mimeType: original.mimeType, width: original.width, height: original.height, original, scale: 1 };
  }
  let quality = opts.quality ?? JPEG_QUALITY;
  let palette = false;
  for (let tries = 1; ; tries++) {
    opts.signal?.throwIfAborted();
    const data = await encode(sharp(input, decode), original, size, format, quality, palette);
    if (!opts.maxBytes || data.length <= opts.maxBytes) {
      const mimeType = format === 'png' ? 'image/png' : 'image/jpeg';
      return { data, mimeType, width: size.width, height: size.height, original, scale: size.scale };
    }
    if (tries >= MAX_TRIES || (size.width === 1 && size.height === 1)) {
      throw new ImageError(
        `could not fit the image into ${opts.maxBytes} bytes: ${data.length} bytes at ${size.width}×${size.height} after ${tries} tries`,
        'allow more bytes, or ask for a smaller region',
      );
    }
    // Cheaper detail first (JPEG quality, PNG colours), then pixels.
    if (format === 'jpeg' && quality > 30) quality = Math.max(30, quality - 10);
    else if (format === 'png' && !palette) palette = true;
    else size = fitSize(original.width, original.height, Math.max(size.width, size.height) * 0.75, Infinity);
  }
}

/** The original's format, bytes and size as shown (after EXIF orientation); refuses what we won't decode. */
async function inspect(sharp: SharpFn, input: Buffer, limit: number): Promise<ImageSize & { bytes: number; mimeType: ScaledImage['mimeType']; rotated: boolean }> {
  let meta;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeError(err, input);
  }
  const mimeType = INPUT_TYPES[meta.format];
  if (!mimeType) throw new ImageError(`unsupported image format "${meta.format}"`, 'PNG, JPEG, GIF and WebP images can be shown');
  // Sizes as shown: after EXIF orientation, and one frame of an animation (only the first is read).
  const shown = { width: meta.autoOrient?.width ?? meta.width, height: meta.autoOrient?.height ?? meta.height };
  if (shown.width * shown.height > limit) {
    throw new ImageError(
      `the image is ${shown.width}×${shown.height} (${megapixels(shown.width * shown.height)} MP), over the ${megapixels(limit)} MP decoding limit: refused as a possible decompression bomb`,
      'crop or shrink it before reading it as an image, or read its bytes as a resource',
    );
  }
  return { ...shown, bytes: input.length, mimeType, rotated: (meta.orientation ?? 1) !== 1 };
}

async function encode(pipeline: Sharp, original: ImageSize, size: ImageSize, format: 'jpeg' | 'png', quality: number, palette: boolean): Promise<Buffer> {
  let p = pipeline.timeout({ seconds: TIMEOUT_S });
  if (size.width !== original.width || size.height !== original.height) p = p.resize(size.width, size.height, { fit: 'fill' });
  p = format === 'png' ? p.png({ palette }) : p.flatten({ background: '#ffffff' }).jpeg({ quality, mozjpeg: true });
  try {
    return await p.toBuffer();
  } catch (err) {
    throw decodeError(err);
  }
}

/** libvips' complaint as one readable sentence: never a stack, never the bytes themselves. */
function decodeError(err: unknown, input?: Buffer): ImageError {
  const why = firstLine(err);
  if (/timeout/i.test(why)) return new ImageError(`decoding the image took over ${TIMEOUT_S} s: refused`);
  if (input && /unsupported image format|corrupt header|not a known file format/i.test(why)) {
    return new ImageError(`not a readable image (${input.length} bytes): no valid PNG, JPEG, GIF or WebP header`, 'read it as text, or as a resource');
  }
  return new ImageError(`the image could not be decoded: ${why}`, 'check that the file is a complete PNG, JPEG, GIF or WebP');
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n').find((l) => l.trim()) ?? 'unknown error').trim().slice(0, 200);
}

const megapixels = (n: number) => (n / 1e6).toFixed(n < 1e7 ? 1 : 0);

/**
 * Share of pixels (0–1) that differ between two images of one place, taken at two moments (a
 * channel moving more than `threshold` counts; JPEG noise does not). Different sizes: 1.
 */
export async function pixelChange(a: Buffer, b: Buffer, threshold = 24): Promise<number> {
  const sharp = await loadSharp();
  const raw = (buf: Buffer) => sharp(buf, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const [x, y] = await Promise.all([raw(a), raw(b)]);
  if (x.info.width !== y.info.width || x.info.height !== y.info.height || x.info.channels !== y.info.channels) return 1;
  const ch = x.info.channels;
  let changed = 0;
  for (let i = 0; i < x.data.length; i += ch) {
    for (let k = 0; k < ch; k++) {
      if (Math.abs(x.data[i + k]! - y.data[i + k]!) > threshold) {
        changed++;
        break;
      }
    }
  }
  return changed / (x.info.width * x.info.height);
}
