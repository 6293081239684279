/** The response builder: sections, budget (images count), head+tail cuts that say where the rest is. */
import { describe, expect, it } from 'vitest';
import { BUDGET_CHARS, imageCost, reply } from '../../src/mcp/result.js';

const textOf = (r: { content: { type: string; text?: string }[] }) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('');

describe('Reply', () => {
  it('lays out images, then one text block, then links, with structured fields apart', () => {
    const r = reply()
      .text('head line')
      .text('body')
      .image({ data: Buffer.from('png'), mimeType: 'image/png', width: 10, height: 10 })
      .link('hoody://x', 'x')
      .structured({ a: 1 })
      .structured({ b: 2 })
      .build();
    expect(r.content.map((c) => c.type)).toEqual(['image', 'text', 'resource_link']);
    expect(textOf(r)).toBe('head line\nbody');
    expect((r.content[0] as { data: string }).data).toBe(Buffer.from('png').toString('base64'));
    expect(r.structuredContent).toEqual({ a: 1, b: 2 });
    expect(r.isError).toBeUndefined();
    expect(reply().text('no').failed().build().isError).toBe(true);
  });

  it('cuts the clippable section, keeping head and tail, naming the count and where the rest is', () => {
    const long = Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n');
    const r = reply().text('exit 0').text(long, { head: 0.25, more: 'full output: hoody://j' }).build();
    const t = textOf(r);
    expect(t.length).toBeLessThanOrEqual(BUDGET_CHARS);
    expect(t.startsWith('exit 0\nline 0\n')).toBe(true);
    expect(t.endsWith('line 9999')).toBe(true);
    expect(t).toMatch(/\[\d+ of \d+ characters \(\d+ lines\) cut; full output: hoody:\/\/j\]/);
  });

  it('keeps fixed sections whole while a clippable one can give way', () => {
    const fixed = 'F'.repeat(10_000);
    const r = reply().text(fixed).text('x'.repeat(50_000), true).build();
    expect(textOf(r).startsWith(fixed)).toBe(true);
    expect(textOf(r).length).toBeLessThanOrEqual(BUDGET_CHARS);
  });

  it('never exceeds the budget, even with only fixed text', () => {
    const r = reply().text('a'.repeat(40_000)).text('b'.repeat(40_000)).build();
    expect(textOf(r).length).toBeLessThanOrEqual(BUDGET_CHARS);
  });

  it('counts images toward the budget and says how many were left out', () => {
    const img = { data: 'AAAA', mimeType: 'image/jpeg', width: 1568, height: 735 };
    expect(imageCost(img)).toBe(Math.ceil((1568 * 735) / 750) * 4);
    const b = reply();
    for (let i = 0; i < 10; i++) b.image(img);
    const r = b.text('shot').build();
    const kept = r.content.filter((c) => c.type === 'image').length;
    expect(kept).toBe(Math.floor((BUDGET_CHARS - 400) / imageCost(img)));
    expect(textOf(r)).toContain(`(${10 - kept} of 10 images left out`);
    // Text shrinks to what the images leave.
    const r2 = reply().image(img).text('z'.repeat(40_000), true).build();
    expect(textOf(r2).length).toBeLessThanOrEqual(BUDGET_CHARS - imageCost(img));
  });

  it('counts structured fields toward the budget', () => {
    const r = reply().structured({ blob: 'q'.repeat(10_000) }).text('t'.repeat(30_000), true).build();
    expect(textOf(r).length + JSON.stringify(r.structuredContent).length).toBeLessThanOrEqual(BUDGET_CHARS);
  });
});
