/** sqlite_query in-process on the simulator's real SQLite: bound parameters, paging, per-statement errors. */
import { describe, expect, it } from 'vitest';
import { everyToolChecks } from './catalogue.js';
import { call, useInproc } from '../helpers/inproc.js';

const t = useInproc({ argsFor: (sim) => ['--container', sim.containerId, '--toolsets', 'sqlite'] });

describe('sqlite toolset', () => {
  it('binds parameters: a quote and "; DROP TABLE" are stored as text, the table survives', async () => {
    const evil = `O'Brien"; DROP TABLE people; --`;
    const r = await call(t.c.client, 'sqlite_query', {
      db: 'app', create: true,
      sql: ['CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)', 'INSERT INTO people (name) VALUES (?)', 'INSERT INTO people (name) VALUES (?)'],
      params: [[], [evil], ['Ada']],
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toContain('[2] 1 rows changed');
    const q = await call(t.c.client, 'sqlite_query', { db: 'app', sql: 'SELECT name FROM people WHERE name = ?', params: [evil] });
    expect(q.text).toContain('rows 1-1 of 1');
    expect(q.text).toContain(`O'Brien"; DROP TABLE people; --`);
    expect((await call(t.c.client, 'sqlite_query', { db: 'app', sql: 'SELECT count(*) AS n FROM people' })).text).toMatch(/n\n2/);
  });

  it('10,000 rows come back paged within the budget, with the count and the next offset', async () => {
    await call(t.c.client, 'sqlite_query', { db: 'big', create: true, sql: 'CREATE TABLE n (i INTEGER, label TEXT)' });
    const fill = await call(t.c.client, 'sqlite_query', {
      db: 'big',
      sql: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000) INSERT INTO n SELECT x, 'row number ' || x FROM c",
    });
    expect(fill.text, fill.text).toContain('10000 rows changed');
    const p1 = await call(t.c.client, 'sqlite_query', { db: 'big', sql: 'SELECT * FROM n ORDER BY i', limit: 10_000 });
    expect(p1.text.length).toBeLessThanOrEqual(32_000);
    const m = /rows 1-(\d+) of 10000 — next page: offset=(\d+)/.exec(p1.text);
    expect(m, p1.text.slice(0, 200)).toBeTruthy();
    const next = Number(m![2]);
    const p2 = await call(t.c.client, 'sqlite_query', { db: 'big', sql: 'SELECT * FROM n ORDER BY i;', offset: next, limit: 5 });
    expect(p2.text).toContain(`rows ${next + 1}-${next + 5} of 10000 — next page: offset=${next + 5}`);
    expect(p2.text).toContain(`${next + 1} | row number ${next + 1}`);
  });

  it('a failing statement is named, the transaction rolled back; bad db names refused', async () => {
    await call(t.c.client, 'sqlite_query', { db: 'tx', create: true, sql: 'CREATE TABLE k (v TEXT UNIQUE)' });
    const r = await call(t.c.client, 'sqlite_query', { db: 'tx', sql: ["INSERT INTO k VALUES ('a')", 'INSERT INTO nope VALUES (1)'] });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/statement 2 of 2 failed: no such table: nope — the transaction was rolled back/);
    expect((await call(t.c.client, 'sqlite_query', { db: 'tx', sql: 'SELECT count(*) FROM k' })).text).toMatch(/\n0$/);
    const missing = await call(t.c.client, 'sqlite_query', { db: 'never-made', sql: 'SELECT 1' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/create=true/);
    for (const db of ['../../etc/passwd', ':memory:', 'a/b', '/hoody/../etc/x']) {
      expect((await call(t.c.client, 'sqlite_query', { db, sql: 'SELECT 1' })).isError, db).toBe(true);
    }
  });
});

everyToolChecks(t, 'sqlite');
