/**
 * Issue 15 end-to-end: the built binary over stdio and over HTTP, one simulator for the file, the
 * same scenarios on both transports. A small HTTP server started as a service is fetched through
 * the simulator's http-<port> proxy and opened with browser_navigate; its logs are read after it
 * exited; a dead port is reported as not answering; SQLite with bound parameters and 10,000 rows
 * paged; hoody_request against the control plane and three kits (one claim-gated); a POST refused
 * under --read-only; the tools/list budgets of the issue.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../src/core/http.js';
import type { Sim } from '../../src/sim/index.js';
import { call, connectHttp, connectStdio, simFor, startHttpServer, waitFor, type Connected, type HttpServer } from '../helpers/harness.js';

/** A port nothing listens on (asked of the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** A one-line web server: logs each request to stdout, serves a small page. */
const webServer = (port: number) =>
  `echo svc-booting; echo svc-warning >&2; exec node -e "require('http').createServer((q,s)=>{console.log('hit '+q.url);s.setHeader('content-type','text/html');s.end('<title>Svc page</title><h1>Hello from the service</h1>')}).listen(${port},'127.0.0.1')"`;

const SERVICES = ['service_start', 'service_list', 'service_logs', 'service_stop', 'port_url', 'sqlite_query', 'hoody_request'];
const tokens = (x: unknown) => Math.round(Buffer.byteLength(JSON.stringify(x)) / 4);

let sim: Sim;
const http: Partial<Record<'rw' | 'ro', HttpServer>> = {};
const ARGS = (sim: Sim) => ['--container', sim.containerId, '--toolsets', 'all'];

beforeAll(async () => {
  sim = await simFor();
  [http.rw, http.ro] = await Promise.all([startHttpServer(sim, { args: ARGS(sim) }), startHttpServer(sim, { args: [...ARGS(sim), '--read-only'] })]);
});
afterAll(async () => {
  await Promise.all([http.rw?.close(), http.ro?.close()]);
  await sim?.close();
});

describe.each(['stdio', 'http'] as const)('%s', (transport) => {
  const connect = (readOnly = false): Promise<Connected> =>
    transport === 'stdio' ? connectStdio(sim, { args: [...ARGS(sim), ...(readOnly ? ['--read-only'] : [])] }) : connectHttp(http[readOnly ? 'ro' : 'rw']!.url, sim.token);
  let c: Connected;
  beforeAll(async () => {
    c = await connect();
  });
  afterAll(() => c?.close());

  it('a web server as a service: its URL, fetched through the proxy, opened in the browser; logs after it exited; the dead port', async () => {
    const port = await freePort();
    const r = await call(c.client, 'service_start', { command: webServer(port), name: `web-${transport}`, port, wait_s: 20 });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toMatch(new RegExp(`^started one-off quick_\\d+_\\d+ \\(web-${transport}\\); port ${port} answers \\(HTTP 200\\) at http://`));
    const { url, service } = r.structured as { url: string; service: string };
    expect(url).toContain(`-http-${port}.`);

    // Through the simulator's proxy (its *.localhost names resolve to loopback through the core's dispatcher).
    const res = await request({ method: 'GET', url: new URL('/from-test', url), source: 'test' });
    expect(res.status).toBe(200);
    expect(await res.body.text()).toContain('Hello from the service');

    const nav = await call(c.client, 'browser_navigate', { url });
    expect(nav.isError, nav.text).toBe(false);
    expect(nav.text).toMatch(/^Svc page — http:\/\/.*-http-\d+\./);
    expect(nav.text).toContain('Hello from the service');

    expect((await call(c.client, 'port_url', { port })).structured).toMatchObject({ url, answers: true, status: 200 });
    expect((await call(c.client, 'service_list')).text).toContain(`${service}  web-${transport}  one-off  running`);

    const stop = await call(c.client, 'service_stop', { service: `web-${transport}` });
    expect(stop.text).toBe(`stopped ${service} (web-${transport})`);
    // Exited and reaped by the kit (its logs endpoint now 404s): the output is still readable.
    expect((await call(c.client, 'service_list')).text).not.toContain(service);
    const out = await call(c.client, 'service_logs', { service });
    expect(out.isError, out.text).toBe(false);
    expect(out.text).toMatch(/\(service gone; saved log\)/);
    expect(out.text).toContain('svc-booting');
    expect(out.text).toContain('hit /from-test'); // the proxy's request
    expect(out.text).toMatch(/hit \/\n/); // the browser's
    const err = await call(c.client, 'service_logs', { service, stream: 'stderr' });
    expect(err.text).toContain('svc-warning');
    expect(err.text).not.toContain('svc-booting');

    const dead = await call(c.client, 'port_url', { port });
    expect(dead.isError, dead.text).toBe(false);
    expect(dead.text).toMatch(new RegExp(`port ${port} not answering`));
    expect(dead.structured).toMatchObject({ url, answers: false });
  });

  it('a one-off that exited by itself: its logs by id and by name', async () => {
    const name = `oneshot-${transport}`;
    const r = await call(c.client, 'service_start', { command: `echo ${name}-done`, name });
    const id = (r.structured as { service: string }).service;
    await waitFor('the one-off to exit and be reaped', async () => !(await call(c.client, 'service_list')).text.includes(id));
    for (const service of [id, name]) {
      const l = await call(c.client, 'service_logs', { service });
      expect(l.isError, l.text).toBe(false);
      expect(l.text).toContain(`${name}-done`);
    }
    expect((await call(c.client, 'service_stop', { service: id })).text).toMatch(/no running or registered service/);
  });

  it('SQLite: bound parameters keep a quote and "; DROP TABLE" as data; 10,000 rows paged within the budget', async () => {
    const db = `e2e-${transport}`;
    const evil = `O'Brien"; DROP TABLE people; --`;
    const w = await call(c.client, 'sqlite_query', {
      db, create: true,
      sql: ['CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)', 'INSERT INTO people (name) VALUES (?)', 'INSERT INTO people (name) VALUES (?)'],
      params: [[], [evil], ['Ada']],
    });
    expect(w.isError, w.text).toBe(false);
    const q = await call(c.client, 'sqlite_query', { db, sql: 'SELECT id, name FROM people WHERE name = ?', params: [evil] });
    expect(q.text).toBe(`rows 1-1 of 1\nid | name\n1 | ${evil}`);
    expect((await call(c.client, 'sqlite_query', { db, sql: 'SELECT count(*) AS n FROM people' })).text).toMatch(/\nn\n2$/);

    const fill = await call(c.client, 'sqlite_query', {
      db,
      sql: ['CREATE TABLE n (i INTEGER, label TEXT)', "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000) INSERT INTO n SELECT x, 'row number ' || x FROM c"],
      params: [[], []],
    });
    expect(fill.text).toContain('[2] 10000 rows changed');
    const p1 = await call(c.client, 'sqlite_query', { db, sql: 'SELECT * FROM n ORDER BY i', limit: 10_000 });
    expect(p1.text.length).toBeLessThanOrEqual(32_000);
    const m = /^rows 1-(\d+) of 10000 — next page: offset=(\d+)/.exec(p1.text);
    expect(m, p1.text.slice(0, 200)).toBeTruthy();
    const next = Number(m![2]);
    expect(next).toBe(Number(m![1]));
    expect(p1.text).toContain(`\n${next} | row number ${next}`);
    expect(p1.text).not.toContain(`\n${next + 1} | `);
    const p2 = await call(c.client, 'sqlite_query', { db, sql: 'SELECT * FROM n ORDER BY i', offset: next, limit: 3 });
    expect(p2.text).toBe(`rows ${next + 1}-${next + 3} of 10000 — next page: offset=${next + 3}\ni | label\n${[1, 2, 3].map((k) => `${next + k} | row number ${next + k}`).join('\n')}`);
    expect(p2.structured).toMatchObject({ rows: 3, total: 10_000 });
  });

  it('hoody_request: the control plane and three kits, one needing a claim minted for it', async () => {
    const api = await call(c.client, 'hoody_request', { kit: 'api', method: 'GET', path: `/api/v1/containers/${sim.containerId}` });
    expect(api.isError, api.text).toBe(false);
    expect(api.text).toMatch(/^HTTP 200 application\/json — /);
    expect(api.text).toContain(`"id": "${sim.containerId}"`);

    const file = `/home/user/raw-${transport}.txt`;
    expect((await call(c.client, 'hoody_request', { kit: 'files', method: 'PUT', path: file, body: 'raw hello' })).isError).toBe(false);
    expect((await call(c.client, 'hoody_request', { kit: 'files', method: 'GET', path: file })).text).toContain('raw hello');

    const daemon = await call(c.client, 'hoody_request', { kit: 'daemon', method: 'GET', path: '/api/v1/daemon/programs', query: { include_status: true } });
    expect(daemon.text).toMatch(/^HTTP 200/);
    expect(daemon.text).toContain('"programs"');

    const before = sim.requests.length;
    const ws = await call(c.client, 'hoody_request', { kit: 'workspaces', method: 'GET', path: '/api/v1/workspaces' });
    expect(ws.isError, ws.text).toBe(false);
    expect(ws.text).toContain('"home"');
    const seen = sim.requests.slice(before);
    expect(seen.some((x) => x.host === 'api' && x.path.endsWith('/authorize'))).toBe(true);
    expect(ws.text).not.toMatch(/X-Hoody-Token|containers\.localhost/i);
  });

  it('under --read-only hoody_request keeps GET; a POST is refused and nothing is sent', async () => {
    const ro = await connect(true);
    try {
      const { tools } = await ro.client.listTools();
      const schema = tools.find((x) => x.name === 'hoody_request')!.inputSchema as unknown as { properties: { method: { enum: string[] } } };
      expect(schema.properties.method.enum).toEqual(['GET', 'HEAD']);
      const before = sim.requests.length;
      const post = await ro.client
        .callTool({ name: 'hoody_request', arguments: { kit: 'api', method: 'POST', path: '/api/v1/projects/', body: { alias: 'nope' } } })
        .catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
      expect(post.isError).toBe(true);
      expect(JSON.stringify(post.content)).toMatch(/method|GET/);
      expect(sim.requests.slice(before).filter((x) => x.method === 'POST')).toEqual([]);
      const get = await call(ro.client, 'hoody_request', { kit: 'api', method: 'GET', path: '/api/v1/projects/' });
      expect(get.isError, get.text).toBe(false);
    } finally {
      await ro.close();
    }
  });

  it('tools/list: services + sqlite + raw ≤ 1,200 tokens; the whole catalogue (42 tools) ≤ 7,000', async () => {
    const { tools } = await c.client.listTools();
    expect(tools).toHaveLength(42);
    expect(tokens(tools)).toBeLessThanOrEqual(7_000);
    const ours = tools.filter((x) => SERVICES.includes(x.name));
    expect(ours).toHaveLength(SERVICES.length);
    expect(tokens(ours)).toBeLessThanOrEqual(1_200);
  });
});
