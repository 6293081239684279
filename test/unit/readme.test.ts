/**
 * The README's toolset table derives from tools/toolsets.ts and the tool definitions: this test
 * fails when they drift apart. `UPDATE_README=1 npx vitest run test/unit/readme.test.ts` rewrites it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { allTools } from '../../tools/index.js';
import { TOOLSETS } from '../../tools/toolsets.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- toolsets:start (generated from tools/toolsets.ts: UPDATE_README=1 npx vitest run test/unit/readme.test.ts) -->';
const END = '<!-- toolsets:end -->';

function table(): string {
  const rows = TOOLSETS.map((s) => {
    const names = allTools.filter((t) => t.toolset === s.id).map((t) => `\`${t.name}\``);
    const when = s.default ? 'yes' : '`all`';
    return `| ${s.id} | ${when} | ${s.description} | ${names.length ? names.join(', ') : 'not in this version yet'} |`;
  });
  return ['| toolset | default | what | tools |', '|---|---|---|---|', ...rows].join('\n');
}

it('README toolset table matches the toolset and tool definitions', () => {
  const text = readFileSync(README, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  expect(a, 'README lacks the toolsets markers').toBeGreaterThan(-1);
  const current = text.slice(a + START.length, b).trim();
  if (process.env.UPDATE_README && current !== table()) {
    writeFileSync(README, `${text.slice(0, a + START.length)}\n${table()}\n${text.slice(b)}`);
    return;
  }
  expect(current).toBe(table());
});
