/**
 * Tool snapshots (after github-mcp-server's toolsnaps): test/toolsnaps/<tool>.snap.json holds each
 * tool exactly as tools/list returns it — what a model reads. A changed description or schema, a
 * new tool without a snapshot, or a snapshot without a tool fails with a readable diff.
 * Review the change, then rewrite them: `npm run toolsnaps:update` (UPDATE_TOOLSNAPS=1).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectInproc, simFor } from '../helpers/inproc.js';
import { TOOL_ARGS } from './catalogue.js';

const DIR = fileURLToPath(new URL('../toolsnaps/', import.meta.url));
const UPDATE = /^(1|true|yes)$/i.test(process.env.UPDATE_TOOLSNAPS ?? '');
const FIELDS = ['name', 'title', 'description', 'inputSchema', 'annotations', 'outputSchema'] as const;

type Listed = Record<string, unknown> & { name: string };
let tools: Listed[] = [];

beforeAll(async () => {
  const sim = await simFor({ seed: false });
  // Every toolset, no default container: the schemas as a fresh install lists them.
  const c = await connectInproc(sim, { args: ['--toolsets', 'all'], env: { HOODY_TOKEN: '' } });
  try {
    tools = (await c.client.listTools()).tools as Listed[];
  } finally {
    await c.close();
    await sim.close();
  }
});

const snapPath = (name: string) => `${DIR}${name}.snap.json`;
const snapOf = (t: Listed) => `${JSON.stringify(Object.fromEntries(FIELDS.filter((f) => t[f] !== undefined).map((f) => [f, t[f]])), null, 2)}\n`;

describe('tool snapshots', () => {
  it('every listed tool matches its snapshot (UPDATE_TOOLSNAPS=1 rewrites them)', () => {
    expect(tools.length).toBeGreaterThan(0);
    if (UPDATE) mkdirSync(DIR, { recursive: true });
    for (const t of tools) {
      const now = snapOf(t);
      if (UPDATE) {
        writeFileSync(snapPath(t.name), now);
        continue;
      }
      if (!existsSync(snapPath(t.name))) {
        throw new Error(`${t.name} has no snapshot (${snapPath(t.name)}): review the new tool, then npm run toolsnaps:update`);
      }
      // Parsed, so the diff is per field; the message says what to do.
      expect(JSON.parse(now), `${t.name} changed — review, then npm run toolsnaps:update`).toEqual(JSON.parse(readFileSync(snapPath(t.name), 'utf8')));
    }
  });

  it('no snapshot is left over from a tool that is gone', () => {
    const names = new Set(tools.map((t) => t.name));
    const stale = readdirSync(DIR).filter((f) => f.endsWith('.snap.json') && !names.has(f.slice(0, -'.snap.json'.length)));
    if (UPDATE) for (const f of stale) unlinkSync(`${DIR}${f}`);
    else expect(stale, 'snapshots of tools no longer listed — npm run toolsnaps:update removes them').toEqual([]);
  });

  it('lists a tool for every entry in the catalogue tables (the tables cover the catalogue)', () => {
    for (const t of tools) expect(Object.keys(TOOL_ARGS.bad)).toContain(t.name);
  });
});
