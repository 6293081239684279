/**
 * Key names accepted by `POST /api/v1/terminal/press` and listed by `GET /api/v1/terminal/keys`
 * ([R:60811-60850]; `arrow_*` aliases appear in [R:60970]). Names are matched case-insensitively
 * (the skill writes `Down`/`Enter`/`F2` [S:9946]); single printable characters are accepted
 * verbatim and not listed.
 *
 * Without a real PTY there is no line discipline, so the simulator reproduces its effect for the
 * keys where bytes alone would do nothing: `ctrl+c` sends SIGINT to the foreground process group
 * (ISIG) and `ctrl+d` closes stdin (EOF). `enter` writes `\n` (what ICRNL turns `\r` into).
 */
export type KeyAction = { bytes: string } | { signal: 'SIGINT' } | { eof: true };

const CSI = '\x1b[';

const NAMED: Record<string, string> = {
  enter: '\n', return: '\n', kp_enter: '\n', tab: '\t', escape: '\x1b', esc: '\x1b', backspace: '\x7f', bs: '\x7f',
  space: ' ', del: `${CSI}3~`, delete: `${CSI}3~`, insert: `${CSI}2~`,
  up: `${CSI}A`, down: `${CSI}B`, right: `${CSI}C`, left: `${CSI}D`,
  arrow_up: `${CSI}A`, arrow_down: `${CSI}B`, arrow_right: `${CSI}C`, arrow_left: `${CSI}D`,
  home: `${CSI}H`, end: `${CSI}F`, page_up: `${CSI}5~`, page_down: `${CSI}6~`,
  f1: '\x1bOP', f2: '\x1bOQ', f3: '\x1bOR', f4: '\x1bOS', f5: `${CSI}15~`, f6: `${CSI}17~`, f7: `${CSI}18~`,
  f8: `${CSI}19~`, f9: `${CSI}20~`, f10: `${CSI}21~`, f11: `${CSI}23~`, f12: `${CSI}24~`,
  kp_plus: '+', kp_minus: '-',
};

for (let i = 0; i < 26; i++) NAMED[`ctrl+${String.fromCharCode(97 + i)}`] = String.fromCharCode(i + 1);

/** The list `GET /keys` returns (aliases included, printable chars not). */
export const KEY_NAMES: string[] = Object.keys(NAMED);

export function keyAction(name: string): KeyAction | undefined {
  if (name.length === 1) {
    const code = name.charCodeAt(0);
    return code >= 0x20 && code <= 0x7e ? { bytes: name } : undefined;
  }
  const key = name.toLowerCase();
  if (key === 'ctrl+c') return { signal: 'SIGINT' };
  if (key === 'ctrl+d') return { eof: true };
  const bytes = NAMED[key];
  return bytes === undefined ? undefined : { bytes };
}
