/**
 * The simulator's stand-in for a desktop environment (`desktop_env` on terminal create): one Tk
 * program (`wish`, ~10 MB, starts in ~100 ms) that makes input visible, so a test sees pixels
 * change where input lands and can read back where it landed.
 *
 * - "Desktop": a window covering the canvas. Every button press draws a dot at the point (black
 *   for button 1, blue for 3, grey for the wheel) and its title records the last event
 *   (`Desktop - b1 1234,567`); typed keys append to a line of text at its top left.
 * - "Notes": a 420×240 text editor at +200+200 (focus it, type, the text shows).
 *
 * It answers a line `N` on stdin with `synced N` once it has handled every X event so far (`update`
 * round-trips to the X server first): Tk reacts to focus and crossing events on its own (it may
 * hand an explicitly set focus back to PointerRoot), so "the focus holds" is only known after that.
 *
 * Why Tk and not a Chromium `--app` window: a tenth of the memory and start-up time, no profile
 * directory, and it runs without a window manager exactly like a seamless Xpra display.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const WISH = ['/usr/bin/wish', '/usr/bin/wish8.6'].find((p) => existsSync(p));

const SCRIPT = (w: number, h: number) => String.raw`
wm title . "Desktop"
wm geometry . ${w}x${h}+0+0
canvas .c -width ${w} -height ${h} -background "#f4f4f4" -highlightthickness 0 -borderwidth 0
pack .c -fill both -expand 1
.c create text 12 12 -anchor nw -text "" -tags typed -font {Helvetica 14}
proc dot {x y b} {
  set col [expr {$b == 1 ? "black" : $b == 3 ? "blue" : "grey50"}]
  .c create oval [expr {$x-6}] [expr {$y-6}] [expr {$x+6}] [expr {$y+6}] -fill $col -outline $col
  wm title . "Desktop - b$b $x,$y"
}
bind .c <ButtonPress> {dot %x %y %b}
bind . <KeyPress> {
  if {[string length "%A"] == 1 && [string is print "%A"]} {
    .c itemconfigure typed -text "[.c itemcget typed -text]%A"
  }
  wm title . "Desktop - key %K"
}
toplevel .notes
wm title .notes "Notes"
wm geometry .notes 420x240+200+200
text .notes.t -width 40 -height 10 -font {Helvetica 24}
pack .notes.t -fill both -expand 1
focus .notes.t
fconfigure stdin -blocking 0
fileevent stdin readable {
  if {[gets stdin line] < 0} { if {[eof stdin]} { exit } ; return }
  update
  puts "synced $line"
  flush stdout
}
update
puts ready
flush stdout
`;

export interface Desktop {
  child: ChildProcess;
  /** Settles once its windows are mapped and its initial focus is set (or it gave up). */
  ready: Promise<void>;
  /** Settles once it has handled every X event up to now (or it is gone, or 5 s passed). */
  sync(): Promise<void>;
}

/** Start the stand-in desktop on X display `:n` (its script written into `dir`); undefined without Tk. */
export function startDesktop(xDisplay: number, w: number, h: number, dir: string): Desktop | undefined {
  if (!WISH) return undefined;
  const file = path.join(dir, `desktop-${xDisplay}.tcl`);
  writeFileSync(file, SCRIPT(w, h));
  const child = spawn(WISH, [file], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DISPLAY: `:${xDisplay}` }, stdio: ['pipe', 'pipe', 'ignore'] });
  child.on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  let out = '';
  let n = 0;
  const waiting = new Map<string, () => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-4096);
    for (const [line, done] of waiting) if (out.includes(line)) done();
  });
  child.once('exit', () => [...waiting.values()].forEach((done) => done()));
  const sync = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const line = `synced ${++n}\n`;
      const done = () => (clearTimeout(timer), waiting.delete(line), resolve());
      const timer = setTimeout(done, 5_000);
      waiting.set(line, done);
      child.stdin!.write(`${n}\n`);
    });
  const ready = new Promise<void>((resolve) => {
    const done = () => (clearTimeout(timer), resolve());
    const timer = setTimeout(done, 10_000);
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && done());
    child.once('exit', done);
  });
  return { child, ready, sync };
}
