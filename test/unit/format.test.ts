/** The plain-text formatters of tools/format.ts and the budget clipper of src/mcp/result.ts. */
import { describe, expect, it } from 'vitest';
import { BUDGET_CHARS, clip, countLines, enforceBudget } from '../../src/mcp/result.js';
import { columns, count, fmtBytes, fmtSeconds, globRe, numbered, shortDiff } from '../../tools/format.js';

describe('fmtBytes', () => {
  it.each([
    [0, '0 B'], [1, '1 B'], [1023, '1023 B'], [1024, '1.0 KiB'], [1536, '1.5 KiB'], [1024 ** 2 - 1, '1024.0 KiB'],
    [1024 ** 2, '1.0 MiB'], [5.25 * 1024 ** 2, '5.3 MiB'], [1024 ** 3, '1.0 GiB'], [3 * 1024 ** 4, '3072.0 GiB'],
  ])('%d → %s', (n, s) => expect(fmtBytes(n)).toBe(s));
});

describe('fmtSeconds', () => {
  it.each([[0, '0.0 s'], [49, '0.0 s'], [50, '0.1 s'], [1234, '1.2 s'], [9_999, '10.0 s'], [10_000, '10 s'], [10_499, '10 s'], [10_500, '11 s'], [3_600_000, '3600 s']])(
    '%d ms → %s',
    (ms, s) => expect(fmtSeconds(ms)).toBe(s),
  );
});

describe('count', () => {
  it('singular for exactly one, plural otherwise (0 included), irregular plurals', () => {
    expect(count(1, 'match', 'matches')).toBe('1 match');
    expect(count(0, 'match', 'matches')).toBe('0 matches');
    expect(count(2, 'file')).toBe('2 files');
    expect(count(1, 'entry', 'entries')).toBe('1 entry');
    expect(count(-1, 'file')).toBe('-1 files');
  });
});

describe('columns', () => {
  it('aligns every column but the last, two spaces apart', () => {
    expect(columns([['d', 'sub/'], ['f', '1 B', 'a.ts'], ['f', '10 KiB', 'b.js']])).toBe('d  sub/\nf  1 B     a.ts\nf  10 KiB  b.js');
  });
  it('no rows → empty string; one row → its cells; empty and missing cells pad', () => {
    expect(columns([])).toBe('');
    expect(columns([['a', 'b']])).toBe('a  b');
    expect(columns([['', 'x'], ['long', 'y']])).toBe('      x\nlong  y');
    expect(columns([['a', 'b', 'c'], ['aaa']])).toBe('a    b  c\naaa');
  });
  it('never pads the last cell (no trailing spaces)', () => {
    const out = columns([['id', 'name'], ['1', 'a much longer name'], ['22', 'b']]);
    for (const line of out.split('\n')) expect(line).toBe(line.trimEnd());
  });
});

describe('numbered', () => {
  it('numbers like cat -n: width 6, tab, from the given first line', () => {
    expect(numbered(['a', 'b'], 1)).toBe('     1\ta\n     2\tb');
    expect(numbered(['x'], 99_999)).toBe(' 99999\tx');
    expect(numbered(['x'], 1_234_567)).toBe('1234567\tx');
    expect(numbered([''], 3)).toBe('     3\t');
    expect(numbered([], 1)).toBe('');
  });
});

describe('globRe', () => {
  it.each([
    ['*.ts', 'a.ts', true], ['*.ts', 'a.tsx', false], ['*.ts', 'ats', false], ['?.py', 'a.py', true], ['?.py', 'ab.py', false],
    ['[ab].txt', 'a.txt', true], ['[ab].txt', 'c.txt', false], ['a+b(c).txt', 'a+b(c).txt', true], ['a+b(c).txt', 'aab(c).txt', false],
    ['$x^{1}|y', '$x^{1}|y', true], ['x', 'xx', false], ['*', '', true], ['*', 'anything.at.all', true], ['a\\b', 'a\\b', true],
  ])('%s matches %s: %s', (pattern, name, hit) => expect(globRe(pattern).test(name)).toBe(hit));
});

describe('shortDiff', () => {
  it('one changed line with two lines of context on each side', () => {
    const before = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7'].join('\n');
    const after = before.replace('l4', 'L4');
    expect(shortDiff(before, after)).toBe('@@ line 4 @@\n  l2\n  l3\n- l4\n+ L4\n  l5\n  l6');
  });
  it('a change at the first or last line has context on one side only', () => {
    expect(shortDiff('a\nb\nc', 'A\nb\nc')).toBe('@@ line 1 @@\n- a\n+ A\n  b\n  c');
    expect(shortDiff('a\nb\nc', 'a\nb\nC')).toBe('@@ line 3 @@\n  a\n  b\n- c\n+ C');
  });
  it('pure insertion and pure deletion', () => {
    expect(shortDiff('a\nc', 'a\nb\nc')).toBe('@@ line 2 @@\n  a\n+ b\n  c');
    expect(shortDiff('a\nb\nc', 'a\nc')).toBe('@@ line 2 @@\n  a\n- b\n  c');
  });
  it('caps each side at 20 lines and says how many more', () => {
    const before = Array.from({ length: 30 }, (_, i) => `old ${i}`).join('\n');
    const after = Array.from({ length: 25 }, (_, i) => `new ${i}`).join('\n');
    const d = shortDiff(before, after).split('\n');
    expect(d.filter((l) => l.startsWith('- '))).toHaveLength(20);
    expect(d.filter((l) => l.startsWith('+ '))).toHaveLength(20);
    expect(d).toContain('  … 10 more');
    expect(d).toContain('  … 5 more');
  });
});

describe('clip', () => {
  const lines = (n: number, width = 20) => Array.from({ length: n }, (_, i) => `${String(i).padStart(6, '0')} ${'x'.repeat(width)}`).join('\n');

  it('returns text within the budget untouched (exactly at the budget too)', () => {
    expect(clip('short')).toEqual({ text: 'short', cut: 0, total: 5 });
    const exact = 'a'.repeat(BUDGET_CHARS);
    expect(clip(exact)).toEqual({ text: exact, cut: 0, total: BUDGET_CHARS });
    expect(clip('')).toEqual({ text: '', cut: 0, total: 0 });
  });

  it('keeps head and tail within the budget, cutting at line boundaries, and counts what it cut', () => {
    const text = lines(10_000);
    const r = clip(text, { more: 'full output: hoody://x' });
    expect(r.total).toBe(text.length);
    expect(r.text.length).toBeLessThanOrEqual(BUDGET_CHARS);
    expect(r.text.startsWith('000000 ')).toBe(true);
    expect(r.text.endsWith(text.slice(-30))).toBe(true);
    const m = /\n\.\.\. \[(\d+) of (\d+) characters \((\d+) lines\) cut; full output: hoody:\/\/x\] \.\.\.\n/.exec(r.text)!;
    expect(m).not.toBeNull();
    expect(Number(m[1])).toBe(r.cut);
    expect(Number(m[2])).toBe(text.length);
    // What is shown plus what was cut is the whole text.
    const [head, tail] = r.text.split(m[0]);
    expect(head!.length + r.cut + tail!.length).toBe(text.length);
    expect(text.startsWith(head!)).toBe(true);
    expect(text.endsWith(tail!)).toBe(true);
    expect(head!.endsWith('\n')).toBe(true); // whole lines
    expect(Number(m[3])).toBe(countLines(text.slice(head!.length, text.length - tail!.length)));
  });

  it('head sets the share kept from the start (head: 1 keeps only the start)', () => {
    const text = lines(5_000);
    const headOnly = clip(text, { budget: 2_000, head: 1 });
    expect(headOnly.text.startsWith('000000 ')).toBe(true);
    expect(headOnly.text).not.toContain('004999');
    const tailOnly = clip(text, { budget: 2_000, head: 0 });
    expect(tailOnly.text).toContain('004999');
    expect(tailOnly.text).not.toContain('000000 ');
  });

  it('one long line with no newline is cut mid-line and still fits', () => {
    const text = 'y'.repeat(100_000);
    const r = clip(text, { budget: 1_000 });
    expect(r.text.length).toBeLessThanOrEqual(1_000);
    expect(r.cut).toBeGreaterThan(98_000);
    expect(r.text).toMatch(/\[\d+ of 100000 characters \(1 lines\) cut\]/);
  });
});

describe('countLines', () => {
  it.each([['', 0], ['a', 1], ['a\n', 1], ['a\nb', 2], ['\n', 1], ['\n\n', 2]])('%j → %d', (s, n) => expect(countLines(s)).toBe(n));
});

describe('enforceBudget', () => {
  it('leaves results within budget alone and clips the longest text of one over it', () => {
    const small = { content: [{ type: 'text' as const, text: 'ok' }] };
    expect(enforceBudget(small)).toEqual(small);
    const big = { content: [{ type: 'text' as const, text: 'short' }, { type: 'text' as const, text: 'z\n'.repeat(50_000) }] };
    const r = enforceBudget(big, 10_000);
    const texts = r.content.map((c) => (c as { text: string }).text);
    expect(texts[0]).toBe('short');
    expect(texts.join('').length).toBeLessThanOrEqual(11_000);
    expect(texts[1]).toMatch(/characters \(\d+ lines\) cut/);
  });
});

describe('clip under a small budget', () => {
  // A 200-character floor once made a clip longer than its input (budget 100: 150 in, 243 out).
  it('a small budget never makes the text longer or the cut negative', () => {
    const r = clip('a'.repeat(150), { budget: 100 });
    expect(r.cut).toBeGreaterThanOrEqual(0);
    expect(r.text.length).toBeLessThanOrEqual(100);
  });
});
