/**
 * Layering: the core knows Hoody, not MCP. Its errors carry a next step as data; the words that
 * name tools live in the tool layer (tools/errors.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HoodyError, type NextStep } from '../../src/core/errors.js';
import { describeError, describeNext } from '../../tools/errors.js';
import { allTools } from '../../tools/index.js';

const CORE = fileURLToPath(new URL('../../src/core', import.meta.url));
const SHELL = fileURLToPath(new URL('../../src/mcp', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));
}

describe('layering', () => {
  it('no file under src/core names a tool', () => {
    const names = allTools.map((t) => t.name);
    expect(names.length).toBeGreaterThan(10);
    const hits = filesUnder(CORE).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return names.filter((n) => new RegExp(`\\b${n}\\b`).test(text)).map((n) => `${f.slice(CORE.length + 1)}: ${n}`);
    });
    expect(hits).toEqual([]);
  });

  it('no code under src/mcp knows Hoody (comments aside)', () => {
    const hits = filesUnder(SHELL).flatMap((f) => {
      const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      return /hoody|container/i.test(code) ? [f.slice(SHELL.length + 1)] : [];
    });
    expect(hits).toEqual([]);
  });

  it('nothing under src/mcp imports the core', () => {
    const hits = filesUnder(SHELL).filter((f) => /from ['"]\.\.\/core\//.test(readFileSync(f, 'utf8')));
    expect(hits.map((f) => f.slice(SHELL.length + 1))).toEqual([]);
  });

  it('the tool layer words every next step, naming the tool to call', () => {
    const err = new HoodyError({ kind: 'not_running', source: 'api', message: 'container web is stopped', next: { code: 'start_container', action: 'start' } });
    expect(describeError(err)).toBe('container web is stopped — call container_action with action "start" first');
    const steps: NextStep[] = [
      { code: 'choose_project', choices: [{ id: 'p1', name: 'one' }, { id: 'p2', name: 'two' }] },
      { code: 'retry_later', afterS: 2.5 },
    ];
    expect(steps.map(describeNext)).toEqual(['pass project (one of: p1 one, p2 two)', 'retry in 3 s']);
    // A tool-neutral hint from the core comes first; an error with neither is its message.
    const both = new HoodyError({ kind: 'timeout', source: 'files', message: 'x hung', hint: 'it may be overloaded', next: { code: 'retry_later' } });
    expect(describeError(both)).toBe('x hung — it may be overloaded: retry in a moment');
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});
