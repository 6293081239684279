/**
 * Real X displays for the simulator: one Debian `Xvfb` per container display, driven with
 * `xdotool` (input, windows, pointer) and captured with `scrot` (PNG of the root window), so
 * pixels really change where input lands. Host display numbers are picked by Xvfb itself
 * (`-displayfd`): several simulators (and other X users) on one machine never collide.
 *
 * The registry is shared by the terminal kit (which creates displays: `create {display}`) and the
 * display kit (which drives them); the display kit's runtime stops a container's displays with
 * the container and all of them when the simulator closes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SimCore } from '../../state.js';
import { KitError } from '../base.js';
import { startDesktop, type Desktop } from './desktop.js';

const which = (...c: string[]) => c.find((p) => existsSync(p));
export const XVFB = which('/usr/bin/Xvfb');
const XDOTOOL = which('/usr/bin/xdotool');
const SCROT = which('/usr/bin/scrot');
const XWININFO = which('/usr/bin/xwininfo');

/** Hoody's display ids [S:5725]. */
export const MAX_DISPLAY_ID = 999_999;
/** The sim's canvas unless a viewer asks for another size: the reference's example size [R:40727]. */
export const DEFAULT_SIZE = { width: 1920, height: 1080 };
/** Input actions waiting per display before the kit answers 429 [R:41056]. */
export const QUEUE_DEPTH = 16;

export interface DisplayOptions {
  desktopEnv?: string;
  width?: number;
  height?: number;
}

function run(file: string, args: string[], env: Record<string, string>, timeoutMs = 10_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Start Xvfb and learn its display number from `-displayfd`. */
function startXvfb(width: number, height: number): Promise<{ proc: ChildProcess; n: number }> {
  if (!XVFB) throw new KitError(503, 'Display is not available: Xvfb is not installed on this machine (apt-get install xvfb)', { code: 'DISPLAY_NOT_AVAILABLE' });
  const proc = spawn(XVFB, ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('Xvfb did not start within 10 s')), 10_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new KitError(503, `Display is not available: ${e.message}`, { code: 'DISPLAY_NOT_AVAILABLE' }));
    };
    proc.once('error', fail);
    proc.once('exit', (code) => fail(new Error(`Xvfb exited (${code})`)));
    proc.stdio[3]!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({ proc, n: Number(out.trim()) });
    });
  });
}

export class XServer {
  #queue: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  desktop?: Desktop;
  stopped = false;

  private constructor(
    public proc: ChildProcess,
    public n: number,
    public width: number,
    public height: number,
    readonly dir: string,
    readonly desktopEnv?: string,
  ) {}

  static async start(dir: string, opts: DisplayOptions): Promise<XServer> {
    const { width = DEFAULT_SIZE.width, height = DEFAULT_SIZE.height } = opts;
    const { proc, n } = await startXvfb(width, height);
    const x = new XServer(proc, n, width, height, dir, opts.desktopEnv);
    await x.#startDesktop();
    return x;
  }

  /** The stand-in desktop, once its windows are on screen (as a display answers once its session is up). */
  async #startDesktop(): Promise<void> {
    if (!this.desktopEnv) return;
    const started = startDesktop(this.n, this.width, this.height, this.dir);
    this.desktop = started;
    await started?.ready;
    if (!this.desktop || !XDOTOOL) return;
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
      const ids = await run(XDOTOOL, ['search', '--onlyvisible', '--name', '^(Desktop|Notes)$'], this.env).then((r) => r.stdout.trim().split('\n'), () => []);
      if (ids.length >= 2) return;
    }
  }

  /** Once the desktop (if any) has handled every X event so far: what it does about them is done. */
  settle(): Promise<void> {
    return this.desktop?.sync() ?? Promise.resolve();
  }

  get env(): Record<string, string> {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', DISPLAY: `:${this.n}` };
  }

  /** Run xdotool on this display; its complaints become the kit's 500 `INPUT_ACTION_FAILED`. */
  async xdo(args: string[]): Promise<string> {
    if (!XDOTOOL) throw new KitError(500, 'Input action failed: xdotool is not installed', { code: 'INPUT_ACTION_FAILED' });
    try {
      const { stdout, stderr } = await run(XDOTOOL, args, this.env);
      const bad = /No such key name '([^']*)'/.exec(stderr);
      if (bad) throw new KitError(500, `Unknown keysym: ${bad[1]}`, { code: 'INPUT_ACTION_FAILED' });
      return stdout;
    } catch (e) {
      if (e instanceof KitError) throw e;
      const why = String((e as { stderr?: string }).stderr ?? '').split('\n').find((l) => l.trim()) ?? (e as Error).message;
      if (/BadWindow|window.*(not found|doesn't exist)/i.test(why)) throw new KitError(404, 'Window not found', { code: 'WINDOW_NOT_FOUND' });
      throw new KitError(500, `Input action failed: ${why.slice(0, 200)}`, { code: 'INPUT_ACTION_FAILED' });
    }
  }

  /** Input actions run one at a time; past QUEUE_DEPTH waiting, 429 [R:41056]. */
  input<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#waiting >= QUEUE_DEPTH) return Promise.reject(new KitError(429, 'Input action queue is full', { code: 'QUEUE_FULL' }));
    this.#waiting++;
    const next = this.#queue.then(fn, fn).finally(() => this.#waiting--);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** The root window's children (`xwininfo -root -children`): ids, names, classes, geometry. */
  async children(): Promise<string> {
    if (!XWININFO) throw new KitError(500, 'Input action failed: xwininfo is not installed (x11-utils)', { code: 'INPUT_ACTION_FAILED' });
    return (await run(XWININFO, ['-root', '-children'], this.env)).stdout;
  }

  /** The top-level window (a child of the root) holding the input focus, or null. */
  async focusedTopLevel(): Promise<number | null> {
    if (!XDOTOOL || !XWININFO) return null;
    let id = await run(XDOTOOL, ['getwindowfocus', '-f'], this.env).then((r) => Number(r.stdout.trim()) || null, () => null);
    // Focus may sit on a widget's own window inside a top-level: climb to the root's child.
    for (let depth = 0; id && depth < 16; depth++) {
      const tree = await run(XWININFO, ['-tree', '-id', String(id)], this.env).then((r) => r.stdout, () => '');
      const root = /Root window id: (0x[0-9a-f]+)/.exec(tree)?.[1];
      const parent = /Parent window id: (0x[0-9a-f]+)/.exec(tree)?.[1];
      if (!root || !parent) return null;
      if (parent === root) return id;
      id = parseInt(parent, 16);
    }
    return null;
  }

  /** A PNG of the whole canvas. */
  async screenshot(): Promise<Buffer> {
    if (!SCROT) throw new KitError(500, 'Screenshot capture failed: scrot is not installed', { code: 'SCREENSHOT_FAILED' });
    const file = path.join(this.dir, `shot-${this.n}-${process.hrtime.bigint()}.png`);
    try {
      await run(SCROT, ['--overwrite', '--silent', file], this.env);
      return await readFile(file);
    } catch {
      throw new KitError(500, 'Screenshot capture failed', { code: 'SCREENSHOT_FAILED' });
    } finally {
      await rm(file, { force: true });
    }
  }

  /** A viewer at another size: Xpra resizes its canvas; here the X server restarts at that size. */
  async resize(width: number, height: number): Promise<void> {
    if (width === this.width && height === this.height) return;
    await this.close();
    const { proc, n } = await startXvfb(width, height);
    Object.assign(this, { proc, n, width, height, stopped: false });
    await this.#startDesktop();
  }

  /** SIGTERM, so Xvfb removes its socket and lock file; SIGKILL after 2 s. */
  async close(): Promise<void> {
    this.stopped = true;
    this.desktop?.child.kill('SIGKILL');
    const proc = this.proc;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(t);
  }
}

/** Every display of one simulator, by container and display id. */
export class Displays {
  readonly #live = new Map<string, Promise<XServer>>();
  readonly dir: string;

  constructor(core: SimCore) {
    this.dir = path.join(core.dataDir, 'displays');
  }

  /** The display, started (with `opts`) unless it runs; concurrent callers share one start. */
  ensure(containerId: string, id: number, opts: DisplayOptions = {}): Promise<XServer> {
    const key = `${containerId}:${id}`;
    let p = this.#live.get(key);
    if (!p) {
      mkdirSync(this.dir, { recursive: true });
      p = XServer.start(this.dir, opts);
      this.#live.set(key, p);
      p.catch(() => this.#live.delete(key));
    }
    return p;
  }

  /** The running display, or the kit's 503 [S:5739]. */
  async get(containerId: string, id: number): Promise<XServer> {
    const x = await this.#live.get(`${containerId}:${id}`)?.catch(() => undefined);
    if (!x || x.stopped) throw new KitError(503, 'Display is not available', { code: 'DISPLAY_NOT_AVAILABLE' });
    return x;
  }

  async stopContainer(containerId: string): Promise<void> {
    for (const [key, p] of [...this.#live]) {
      if (!key.startsWith(`${containerId}:`)) continue;
      this.#live.delete(key);
      await (await p.catch(() => undefined))?.close();
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.#live.values()];
    this.#live.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
  }
}

const registries = new WeakMap<SimCore, Displays>();

/** The displays of one simulator (shared by the terminal and display kits). */
export function displaysOf(core: SimCore): Displays {
  let d = registries.get(core);
  if (!d) registries.set(core, (d = new Displays(core)));
  return d;
}
