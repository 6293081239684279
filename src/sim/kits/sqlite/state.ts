/**
 * One container's sqlite kit (seed-kits-exec-files.md §6, [S:9396-9894]) on a real SQLite: sql.js
 * (SQLite compiled to wasm) over database files in the container sandbox. Each request loads the
 * file, runs, and writes it back if anything changed; requests to one container run one at a time.
 *
 * Paths: a bare name (or `./name`) → `/hoody/databases/<name>.db` (`.db` added without an
 * extension); relative paths with `/` and `:memory:` are rejected [S:9456]; absolute paths are
 * accepted under the container's own directories (a dev kit's `--allow-any-absolute-db-path`:
 * the seeds' examples use /tmp).
 */
import { createRequire } from 'node:module';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import type { ContainerRec } from '../../records.js';
import { isOwned, mapPath, normalizeContainerPath } from '../../sandbox.js';
import type { SimCore } from '../../state.js';
import { KitError, type KitState } from '../base.js';

/** SELECT rows per item beyond which the kit silently truncates [S:9460]. */
export const MAX_QUERY_ROWS = 10_000;

let engine: Promise<SqlJsStatic> | undefined;
function sqljs(): Promise<SqlJsStatic> {
  engine ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmBinary = await readFile(require.resolve('sql.js/dist/sql-wasm.wasm'));
    const init = (await import('sql.js')).default;
    return init({ wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer });
  })();
  return engine;
}

export function resolveDbPath(raw: string | null): string {
  if (!raw) throw new KitError(400, 'db is required');
  if (raw === ':memory:' || raw.startsWith('file:')) throw new KitError(400, 'in-memory databases are not supported');
  if (raw.includes('\0') || raw.includes('\\')) throw new KitError(400, 'invalid database path');
  if (!raw.startsWith('/')) {
    const name = raw.replace(/^\.\//, '');
    if (!name || name.includes('/') || name === '.' || name === '..') throw new KitError(400, 'relative database paths must be a bare name');
    return `/hoody/databases/${path.extname(name) ? name : `${name}.db`}`;
  }
  const p = normalizeContainerPath(raw);
  if (!isOwned(p)) throw new KitError(400, 'absolute database paths outside /hoody/databases are disallowed');
  return p;
}

export interface TxItem {
  query?: string;
  statement?: string;
  values?: SqlValue[];
  valuesBatch?: SqlValue[][];
  noFail?: boolean;
}

export type TxAnswer = { results: Record<string, unknown>[] } | { error: string; reqIdx: number };

function cell(v: SqlValue): unknown {
  return v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
}

export class SqliteState implements KitState {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly core: SimCore,
    private readonly container: ContainerRec,
  ) {}

  host(containerPath: string): string {
    return mapPath(this.core.sandboxRoot(this.container.id), containerPath);
  }

  /** Runs `fn` on the database at `dbPath` (serialised per container); writes it back when changed. */
  use<T>(dbPath: string, create: boolean, fn: (db: Database) => { value: T; changed: boolean }): Promise<T> {
    const run = async () => {
      const SQL = await sqljs();
      const file = this.host(dbPath);
      const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' && create) return undefined;
        if (e.code === 'ENOENT') throw new KitError(404, `database not found: ${dbPath}`);
        throw new KitError(400, `cannot open database ${dbPath}: ${e.code ?? e.message}`);
      });
      const db = new SQL.Database(bytes);
      try {
        const { value, changed } = fn(db);
        if (changed || !bytes) {
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, db.export());
        }
        return value;
      } finally {
        db.close();
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** One transaction: every item in order; an item's error rolls back the whole unless `noFail` [S:9478]. */
  transaction(db: Database, items: TxItem[], list: boolean): { value: TxAnswer; changed: boolean } {
    const results: Record<string, unknown>[] = [];
    db.exec('BEGIN');
    let changed = false;
    for (const [i, item] of items.entries()) {
      try {
        results.push(this.item(db, item, list));
        changed ||= item.query === undefined;
      } catch (e) {
        const error = (e as Error).message;
        if (item.noFail) {
          results.push({ success: false, error });
          continue;
        }
        db.exec('ROLLBACK');
        return { value: { error, reqIdx: i }, changed: false };
      }
    }
    db.exec('COMMIT');
    // DDL counts as a change; a query item may write too (INSERT … RETURNING).
    changed ||= Number(db.exec('SELECT total_changes()')[0]?.values[0]?.[0] ?? 0) > 0;
    return { value: { results }, changed };
  }

  private item(db: Database, item: TxItem, list: boolean): Record<string, unknown> {
    const sql = item.query ?? item.statement ?? '';
    if (item.valuesBatch) {
      const stmt = db.prepare(sql);
      try {
        const batch = item.valuesBatch.map((v) => (stmt.run(v), db.getRowsModified()));
        return { success: true, rowsUpdated: null, rowsUpdatedBatch: batch };
      } finally {
        stmt.free();
      }
    }
    const stmt = db.prepare(sql, item.values);
    try {
      if (item.query === undefined) {
        while (stmt.step()) {
          /* a SELECT under `statement` runs, its rows are thrown away [S:9455] */
        }
        return { success: true, rowsUpdated: db.getRowsModified() };
      }
      const headers = stmt.getColumnNames();
      const rows: unknown[] = [];
      while (rows.length < MAX_QUERY_ROWS && stmt.step()) {
        const r = stmt.get().map(cell);
        rows.push(list ? r : Object.fromEntries(headers.map((h, k) => [h, r[k]])));
      }
      return { success: true, rowsUpdated: null, resultHeaders: headers, resultSet: rows };
    } finally {
      stmt.free();
    }
  }

  stop(): void {
    /* nothing runs between requests */
  }
}
