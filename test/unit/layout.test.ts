/** Layout rules the code must keep: no function in src/ over MAX_LINES lines. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAst } from 'rolldown/parseAst';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_LINES = 120;
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) yield p;
  }
}

/** Every function in a file with its line count. */
function functionSizes(file: string): { where: string; lines: number }[] {
  const src = readFileSync(file, 'utf8');
  const lineAt = (offset: number) => src.slice(0, offset).split('\n').length;
  const out: { where: string; lines: number }[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; start: number; end: number };
    if (n.type && FUNCTIONS.has(n.type)) {
      const first = lineAt(n.start);
      out.push({ where: `${relative(ROOT, file)}:${first}`, lines: lineAt(n.end) - first + 1 });
    }
    for (const v of Object.values(node)) if (v && typeof v === 'object') visit(v);
  };
  visit(parseAst(src, { lang: 'ts' }, file));
  return out;
}

it(`no function in src/ is over ${MAX_LINES} lines`, () => {
  const all = [...files(join(ROOT, 'src'))].flatMap(functionSizes);
  expect(all.length).toBeGreaterThan(100);
  expect(all.filter((f) => f.lines > MAX_LINES).map((f) => `${f.where} (${f.lines} lines)`)).toEqual([]);
});
