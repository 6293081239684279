/**
 * sqlite kit routes (`/api/v1/sqlite/*`, [S:9770-9894]): SQL transactions (`POST /db`), database
 * creation, the read-only shareable `GET /query`. Errors are `{statusCode, error, message}`; a
 * transaction item's failure is `{error, reqIdx}` with HTTP 200 [S:9478]. The KV store is not
 * simulated (404).
 */
import type { SqlValue } from 'sql.js';
import type { Route } from '../../router.js';
import type { SimCore } from '../../state.js';
import { reason, sendJson } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import { MAX_QUERY_ROWS, resolveDbPath, SqliteState, type TxItem } from './state.js';

type Req = KitRequest<SqliteState>;
const S = '/api/v1/sqlite';

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function isValue(v: unknown): v is SqlValue {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function values(raw: unknown, where: string): SqlValue[] {
  if (!Array.isArray(raw) || !raw.every(isValue)) throw new KitError(400, `${where}: values must be an array of strings, numbers, booleans or nulls`);
  return raw.map((v) => (typeof v === 'boolean' ? Number(v) : v));
}

/** Validates a transaction body's items [S:9460]: one SQL key each, bounded, values or valuesBatch. */
function items(b: Record<string, unknown>): TxItem[] {
  const tx = b.transaction;
  if (!Array.isArray(tx) || tx.length === 0) throw new KitError(400, 'transaction must be a non-empty array');
  if (tx.length > 10_000) throw new KitError(400, 'too many transaction items (max 10000)');
  let rows = 0;
  return tx.map((raw, i) => {
    const it = raw as Record<string, unknown>;
    const keys = ['query', 'statement', 'sql'].filter((k) => typeof it?.[k] === 'string');
    if (keys.length !== 1) throw new KitError(400, `transaction[${i}]: exactly one of query, statement or sql is required`);
    if (it.values !== undefined && it.valuesBatch !== undefined) throw new KitError(400, `transaction[${i}]: values and valuesBatch are mutually exclusive`);
    const item: TxItem = { noFail: it.noFail === true };
    if (keys[0] === 'query') item.query = it.query as string;
    else item.statement = it[keys[0]!] as string;
    if (it.values !== undefined) item.values = values(it.values, `transaction[${i}]`);
    if (it.valuesBatch !== undefined) {
      if (item.query !== undefined) throw new KitError(400, `transaction[${i}]: query items cannot use valuesBatch`);
      if (!Array.isArray(it.valuesBatch) || it.valuesBatch.length > 100_000) throw new KitError(400, `transaction[${i}]: valuesBatch must be an array of at most 100000 rows`);
      item.valuesBatch = it.valuesBatch.map((v) => values(v, `transaction[${i}]`));
      rows += item.valuesBatch.length;
    }
    if (rows > 1_000_000) throw new KitError(400, 'too many rows in one transaction (max 1000000)');
    return item;
  });
}

const READ_ONLY = /^\s*(select|with)\b/i;

const routes: Route<Req>[] = [
  {
    method: 'POST', pattern: `${S}/db`,
    handler: async (req) => {
      const db = resolveDbPath(req.query.get('db'));
      const body = await req.json();
      const tx = items(body);
      const list = body.resultFormat === 'list';
      const answer = await req.state.use(db, boolParam(req.query, 'create_db_if_missing') || boolParam(req.query, 'auto_create'), (d) => req.state.transaction(d, tx, list));
      sendJson(req.res, 200, answer);
    },
  },
  {
    method: 'POST', pattern: `${S}/db/create`,
    handler: async (req) => {
      const db = resolveDbPath(req.query.get('path'));
      await req.state.use(db, true, () => ({ value: undefined, changed: true }));
      sendJson(req.res, 200, { status: 'created', path: db });
    },
  },
  {
    method: 'GET', pattern: `${S}/query`,
    handler: async (req) => {
      const db = resolveDbPath(req.query.get('db'));
      const raw = req.query.get('sql') ?? '';
      const decoded = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
      const sql = READ_ONLY.test(decoded) ? decoded : raw;
      if (!READ_ONLY.test(sql) || /;\s*\S/.test(sql)) throw new KitError(400, 'GET /query only accepts read-only SELECT/WITH queries; use POST /db for mutating SQL');
      const r = await req.state.use(db, false, (d) => {
        const stmt = d.prepare(sql);
        try {
          const rows: unknown[] = [];
          let more = false;
          while (stmt.step()) {
            if (rows.length === MAX_QUERY_ROWS) {
              more = true;
              break;
            }
            rows.push(stmt.getAsObject());
          }
          // Never written back: a write hidden in a WITH does not persist.
          return { value: { columns: stmt.getColumnNames(), resultSet: rows, rowCount: rows.length, truncated: more }, changed: false };
        } finally {
          stmt.free();
        }
      });
      sendJson(req.res, 200, r);
    },
  },
];

export const createSqliteKit = (core: SimCore) =>
  createKit(core, {
    slug: 'sqlite',
    service: 'hoody-sqlite',
    state: (c) => new SqliteState(core, c),
    routes,
    errors: {
      body: (e: KitError) => ({ statusCode: e.status, error: reason(e.status), message: e.message }),
      // SQLite's own errors (syntax, constraints) outside a transaction item are the caller's.
      fromThrown: (e) => new KitError(400, (e as Error).message),
    },
  });
