/**
 * sqlite kit client (seed-kits-exec-files.md §6): SQL through `POST /api/v1/sqlite/db` transactions.
 * Parameters travel as the kit's `values` (bound by SQLite, never spliced into the SQL). The item key
 * matters: `query` returns rows, `statement` only a count — a SELECT under `statement` silently
 * returns nothing [S:9455], so each statement is classified. A SELECT's rows are capped (10,000,
 * silently [S:9460]), so the last statement, when it is a plain SELECT/WITH/VALUES, is paged by
 * wrapping it (`LIMIT/OFFSET` as integers this module produces) and counted in the same transaction.
 * A failed item is `{error, reqIdx}` with HTTP 200 [S:9478]: that becomes an error naming the
 * statement.
 */
import { HoodyError } from '../errors.js';
import { readJson } from '../http.js';
import type { Kits } from '../kits.js';

export type SqlParam = string | number | boolean | null;

export interface QueryOptions {
  db: string;
  /** Statements run in order in one transaction. */
  sql: string[];
  /** Bound parameters per statement (positional `?`). */
  params: SqlParam[][];
  /** Rows of the last statement to skip / to return at most. */
  offset: number;
  limit: number;
  create: boolean;
}

export type StatementResult =
  | { kind: 'rows'; columns: string[]; rows: unknown[][]; offset: number; more: boolean; total?: number }
  | { kind: 'changed'; count: number };

const ROWS = /^\s*(select|with|values|pragma|explain)\b/i;
const PAGEABLE = /^\s*(select|with|values)\b/i;
/** A WITH that ends in a write (`WITH … INSERT INTO …`) returns no rows and cannot be wrapped. */
const WITH_WRITE = /^\s*with\b[\s\S]*\b(insert\s+(or\s+\w+\s+)?into|update\s+(or\s+\w+\s+)?\w+\s+set|delete\s+from|replace\s+into)\b/i;

/** Bare name (`app`, `./app`, `app.db`) or an absolute path; never traversal, never `:memory:`. */
export function checkDb(db: string): string {
  const d = db.trim();
  const bare = /^(\.\/)?[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(d) && !d.includes('..');
  const abs = d.startsWith('/') && d.length <= 1024 && !/[\0\\]/.test(d) && !d.split('/').some((s) => s === '..' || s === '.');
  if (!bare && !abs) {
    throw new HoodyError({ kind: 'bad_request', source: 'sqlite', message: `db "${db.slice(0, 100)}" must be a bare name (app → /hoody/databases/app.db) or an absolute path without . or .. segments` });
  }
  return d;
}

/** Strips trailing semicolons and whitespace (the kit runs one statement per item). */
function clean(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

function toRows(columns: string[], set: unknown[]): unknown[][] {
  return set.map((r) => (Array.isArray(r) ? r : columns.map((c) => (r as Record<string, unknown>)[c])));
}

export class SqliteKit {
  constructor(private readonly kits: Kits) {}

  async query(containerId: string, o: QueryOptions, signal?: AbortSignal): Promise<StatementResult[]> {
    const db = checkDb(o.db);
    const last = o.sql.length - 1;
    const items: Record<string, unknown>[] = [];
    let paged = false;
    o.sql.forEach((raw, i) => {
      const sql = clean(raw);
      const values = o.params[i] ?? [];
      const v = values.length ? { values } : {};
      const writes = WITH_WRITE.test(sql);
      if (i === last && PAGEABLE.test(sql) && !writes) {
        paged = true;
        items.push({ query: `SELECT * FROM (\n${sql}\n) LIMIT ${o.limit + 1} OFFSET ${o.offset}`, ...v });
        items.push({ query: `SELECT COUNT(*) FROM (\n${sql}\n)`, ...v });
      } else if ((ROWS.test(sql) && !writes) || /\breturning\b/i.test(sql)) items.push({ query: sql, ...v });
      else items.push({ statement: sql, ...v });
    });
    const res = await this.kits.request(containerId, 'sqlite', {
      method: 'POST',
      path: '/api/v1/sqlite/db',
      query: { db, create_db_if_missing: o.create ? 'true' : undefined },
      body: { transaction: items, resultFormat: 'list' },
      idempotent: false,
      signal,
      timeoutMs: 60_000,
    });
    let body: { results?: Record<string, unknown>[]; error?: string; reqIdx?: number };
    try {
      body = (await readJson<typeof body>(res, 'sqlite')) ?? {};
    } catch (e) {
      if (e instanceof HoodyError && e.kind === 'not_found') throw new HoodyError({ kind: 'not_found', source: 'sqlite', message: e.message, next: { code: 'create_db' } });
      throw e;
    }
    if (body.error !== undefined || !Array.isArray(body.results)) {
      const idx = Math.min(Number(body.reqIdx ?? 0), last);
      const which = o.sql.length > 1 ? `statement ${idx + 1} of ${o.sql.length}` : 'the statement';
      throw new HoodyError({
        kind: 'bad_request',
        source: 'sqlite',
        message: `${which} failed: ${body.error ?? 'no results'}${o.sql.length > 1 ? ' — the transaction was rolled back, nothing changed' : ''}`,
      });
    }
    return this.#results(body.results, o, paged);
  }

  #results(results: Record<string, unknown>[], o: QueryOptions, paged: boolean): StatementResult[] {
    const out: StatementResult[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (!Array.isArray(r.resultSet)) {
        const batch = r.rowsUpdatedBatch as number[] | undefined;
        out.push({ kind: 'changed', count: Number(r.rowsUpdated ?? batch?.reduce((a, b) => a + b, 0) ?? 0) });
        continue;
      }
      const columns = ((r.resultHeaders as string[] | undefined) ?? []).map(String);
      let rows = toRows(columns, r.resultSet);
      if (paged && i === results.length - 2) {
        const count = results[i + 1]?.resultSet as unknown[] | undefined;
        const first = count?.[0];
        const total = Number(Array.isArray(first) ? first[0] : Object.values((first as object) ?? {})[0]);
        const more = rows.length > o.limit;
        rows = rows.slice(0, o.limit);
        out.push({ kind: 'rows', columns, rows, offset: o.offset, more, total: Number.isFinite(total) ? total : undefined });
        break;
      }
      out.push({ kind: 'rows', columns, rows, offset: 0, more: false });
    }
    return out;
  }
}
