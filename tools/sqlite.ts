import * as z from 'zod';
import type { StatementResult } from '../src/core/kits/sqlite.js';
import { BUDGET_CHARS, reply } from '../src/mcp/result.js';
import { inContainer, tool } from './common.js';

const isValue = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const TABLE_ROOM = BUDGET_CHARS - 2_000;

/** One cell, on one line, at most 200 characters. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  const s = typeof v === 'string' ? (/[|\n\r\t]/.test(v) || v === 'NULL' ? JSON.stringify(v) : v) : String(v);
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}

/** Rows as a compact table within the room; says which rows it shows and how to page on. */
function table(r: Extract<StatementResult, { kind: 'rows' }>, room: number): { text: string; shown: number } {
  const lines = [r.columns.join(' | ')];
  let used = lines[0]!.length;
  let shown = 0;
  for (const row of r.rows) {
    const l = row.map(cell).join(' | ');
    if (used + l.length + 1 > room) break;
    lines.push(l);
    used += l.length + 1;
    shown++;
  }
  const total = r.total !== undefined ? ` of ${r.total}` : '';
  const next = r.offset + shown;
  const rest = shown < r.rows.length || r.more ? ` — next page: offset=${next}` : '';
  const head = shown === 0 && r.rows.length === 0 ? `0 rows${total}` : `rows ${r.offset + 1}-${next}${total}${rest}`;
  return { text: `${head}\n${lines.join('\n')}`, shown };
}

export const sqliteTools = [
  tool({
    name: 'sqlite_query',
    title: 'SQLite query',
    description:
      'Run SQL on a container SQLite database (db: name → /hoody/databases/<name>.db, or absolute path). sql as an array: one transaction. Put values in params (? placeholders), never in the SQL. Rows as a table; page with offset.',
    toolset: 'sqlite',
    kind: 'write',
    scope: inContainer,
    input: z.object({
      db: z.string().min(1),
      sql: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(100)]),
      params: z.array(z.unknown()).max(999).optional().describe('Values for ?; one array per statement if sql is an array'),
      offset: z.number().int().min(0).max(1e9).optional(),
      limit: z.number().int().min(1).max(10_000).optional().describe('default 1000'),
      create: z.boolean().optional().describe('if missing'),
    }),
    async handler(args, { deps, scope: id, signal }) {
      const sql = Array.isArray(args.sql) ? args.sql : [args.sql];
      const p = args.params ?? [];
      const nested = p.some(Array.isArray);
      if (nested && !p.every(Array.isArray)) return reply().text('params: pass either values, or one array of values per statement — not a mix').failed();
      if (!(nested ? p.flat() : p).every(isValue)) return reply().text('params: each value must be a string, number, boolean or null').failed();
      if (sql.some((s) => s.length > 100_000)) return reply().text('sql: a statement is over 100,000 characters').failed();
      const params = (nested ? p : sql.length === 1 ? [p] : []) as (string | number | boolean | null)[][];
      if (!nested && p.length && sql.length > 1) return reply().text('params: with several statements pass one array of values per statement').failed();
      const results = await deps.sqlite.query(id, { db: args.db, sql, params, offset: args.offset ?? 0, limit: args.limit ?? 1000, create: args.create ?? false }, signal);
      const out = reply();
      let room = TABLE_ROOM;
      let rows = 0;
      for (const [i, r] of results.entries()) {
        const label = results.length > 1 ? `[${i + 1}] ` : '';
        if (r.kind === 'changed') {
          out.text(`${label}${r.count} rows changed`);
          continue;
        }
        const t = table(r, Math.max(400, room));
        room -= t.text.length;
        rows = t.shown;
        out.text(label + t.text);
      }
      const last = results.at(-1);
      return out.structured({ statements: results.length, rows, ...(last?.kind === 'rows' && last.total !== undefined ? { total: last.total } : {}) });
    },
  }),
];
