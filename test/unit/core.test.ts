import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeError } from '../../src/core/errors.js';
import { localhostLookup, request, readJson } from '../../src/core/http.js';
import { containersDomain, kitSlug } from '../../src/core/kits.js';
import { realmBase } from '../../src/core/control.js';
import { cleanPtyText, kitKeyName } from '../../src/core/kits/terminal.js';
import { containerPath, linesOf, streamedLinesOf } from '../../src/core/kits/files.js';
import { Secrets } from '../../src/core/secrets.js';
import { parseJob } from '../../src/core/jobs.js';
import { jsonBytesBound } from '../../src/limits.js';

describe('normalizeError folds every kit error shape', () => {
  it.each([
    ['control plane', 404, '{"statusCode":404,"error":"Not Found","message":"Container not found"}', 'not_found', 'Container not found', undefined],
    ['terminal', 400, '{"statusCode":400,"error":"Bad Request","message":"Invalid parameter"}', 'bad_request', 'Invalid parameter', undefined],
    ['files', 403, '{"error":"Access to /x is forbidden","success":false}', 'forbidden', 'Access to /x is forbidden', undefined],
    ['watch', 409, '{"code":"HISTORY_GAP","message":"cursor too old","details":"{}"}', 'conflict', 'cursor too old', 'HISTORY_GAP'],
    ['exec admin', 400, '{"error":"VALIDATION_ERROR","code":"VALIDATION_ERROR","timestamp":"x"}', 'bad_request', 'VALIDATION_ERROR', 'VALIDATION_ERROR'],
    ['daemon', 400, '{"success":false,"error":"program not found"}', 'bad_request', 'program not found', undefined],
    ['signing', 503, '{"statusCode":503,"error":"SIGNING_NOT_CONFIGURED","message":"Response signing is not configured"}', 'unavailable', 'Response signing is not configured', 'SIGNING_NOT_CONFIGURED'],
  ])('%s', (_n, status, body, kind, message, code) => {
    const e = normalizeError(status as number, body as string, 'files');
    expect(e.kind).toBe(kind);
    expect(e.message).toBe(message);
    expect(e.code).toBe(code);
  });

  it('reads the proxy HTML 502 page as "kit not reachable"', () => {
    const e = normalizeError(502, '<!DOCTYPE html><html><title>Error 502</title></html>', 'files');
    expect(e.kind).toBe('unavailable');
    expect(e.message).toMatch(/could not reach the container's files kit/);
  });

  it('names an empty 429', () => {
    expect(normalizeError(429, '', 'files', 3).message).toBe('rate limited');
  });
});

describe('kit URLs', () => {
  it('derives the containers domain from the API URL, keeping the port', () => {
    expect(containersDomain('https://api.hoody.icu')).toEqual({ protocol: 'https:', domain: 'containers.hoody.icu', port: '' });
    expect(containersDomain('http://api.localhost:8080')).toEqual({ protocol: 'http:', domain: 'containers.localhost', port: '8080' });
    expect(containersDomain('https://0123456789abcdef01234567.api.hoody.com').domain).toBe('containers.hoody.com');
    expect(() => containersDomain('https://example.com')).toThrow(/api\.<domain>/);
  });
  it('follows the slug rules', () => {
    expect(kitSlug('files')).toBe('files-1');
    expect(kitSlug('display-2')).toBe('display-2');
    expect(kitSlug('http-8080')).toBe('http-8080');
    expect(kitSlug('http')).toBe('http-80');
    expect(kitSlug('https')).toBe('https-443');
    expect(kitSlug('ssh')).toBe('ssh');
    expect(kitSlug('proxyLogs')).toBe('logs-1');
    expect(kitSlug('app')).toBe('run-1');
    expect(kitSlug('notifications')).toBe('n-1');
    expect(() => kitSlug('../x')).toThrow();
  });
  it('scopes the API host to a realm', () => {
    expect(realmBase('https://api.hoody.icu', '0123456789abcdef01234567').host).toBe('0123456789abcdef01234567.api.hoody.icu');
  });
});

describe('terminal text', () => {
  it('strips ANSI, folds CRLF and carriage-return rewrites', () => {
    expect(cleanPtyText('\x1b[31mred\x1b[0m\r\nnext\r\n')).toBe('red\nnext\n');
    expect(cleanPtyText('10%\r50%\r100%\r\ndone')).toBe('100%\ndone');
  });
  it('maps key names to the kit names', () => {
    expect(['Enter', 'Tab', 'Escape', 'Up', 'Ctrl+C', 'PageDown', 'Backspace', 'F5', 'q'].map(kitKeyName)).toEqual([
      'enter', 'tab', 'escape', 'up', 'ctrl+c', 'page_down', 'bs', 'f5', 'q',
    ]);
  });
});

describe('paths and handles', () => {
  it('normalises container paths', () => {
    expect(containerPath('~/a/../b.txt')).toBe('/home/user/b.txt');
    expect(containerPath('/a/b/')).toBe('/a/b');
    expect(containerPath('/../../etc')).toBe('/etc');
    expect(() => containerPath('relative/x')).toThrow(/not absolute/);
  });
  it('parses job handles and rejects anything else', () => {
    expect(parseJob('23817-4410')).toEqual({ terminalId: '23817', commandId: '4410' });
    expect(() => parseJob('abc')).toThrow(/not a job handle/);
  });
});

describe('http core', () => {
  let server: http.Server;
  let base: string;
  const hits: Record<string, number> = {};
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const key = `${req.method} ${req.url}`;
      hits[key] = (hits[key] ?? 0) + 1;
      const n = hits[key]!;
      if (req.url === '/flaky' && n <= 2) {
        res.writeHead(502, { 'content-type': 'text/html' });
        return res.end('<!DOCTYPE html>Error 502');
      }
      if (req.url === '/limited' && n === 1) {
        res.writeHead(429, { 'retry-after': '1' });
        return res.end();
      }
      if (req.url === '/slow-headers') {
        setTimeout(() => {
          res.writeHead(200);
          res.end('late');
        }, 800);
        return;
      }
      if (req.url === '/slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let i = 0;
        const t = setInterval(() => {
          res.write(`chunk${i}\n`);
          if (++i === 4) {
            clearInterval(t);
            res.end();
          }
        }, 250);
        return;
      }
      if (req.url === '/post502') {
        res.writeHead(502);
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, n }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://api.localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('resolves *.localhost to loopback itself', async () => {
    const addr = await new Promise<string>((resolve, reject) =>
      localhostLookup('a-b-files-1.sim.containers.localhost', {}, (err, a) => (err ? reject(err) : resolve(a as string))),
    );
    expect(addr).toBe('127.0.0.1');
  });

  it('retries an idempotent GET through a 502 burst', async () => {
    const res = await request({ method: 'GET', url: new URL('/flaky', base), source: 'files', retry: { baseMs: 10 } });
    expect(await readJson(res, 'files')).toEqual({ ok: true, n: 3 });
  });

  it('honours Retry-After on 429', async () => {
    const t = Date.now();
    const res = await request({ method: 'GET', url: new URL('/limited', base), source: 'api' });
    expect(res.status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(950);
    await res.body.dump();
  });

  it('never re-sends a POST blindly after a 502', async () => {
    const res = await request({ method: 'POST', url: new URL('/post502', base), source: 'terminal', body: { a: 1 }, retry: { baseMs: 10 } });
    expect(res.status).toBe(502);
    await res.body.dump();
    expect(hits['POST /post502']).toBe(1);
  });

  it('re-sends a POST once the server confirms it never started', async () => {
    let asked = 0;
    const res = await request({
      method: 'POST',
      url: new URL('/post502', base),
      source: 'terminal',
      body: {},
      retry: { baseMs: 10, attempts: 3 },
      verifyNotStarted: async () => (asked++, true),
    });
    expect(res.status).toBe(502);
    await res.body.dump();
    expect(asked).toBe(2);
    expect(hits['POST /post502']).toBe(4);
  });

  it('times out waiting for headers, but not while a body streams', async () => {
    await expect(request({ method: 'GET', url: new URL('/slow-headers', base), source: 'files', timeoutMs: 300, retry: { attempts: 1 } })).rejects.toMatchObject({
      kind: 'timeout',
    });
    const res = await request({ method: 'GET', url: new URL('/slow-body', base), source: 'files', timeoutMs: 300 });
    expect(await res.body.text()).toBe('chunk0\nchunk1\nchunk2\nchunk3\n');
  });

  it('aborts with the caller signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(request({ method: 'GET', url: new URL('/x', base), source: 'files', signal: ac.signal })).rejects.toMatchObject({ kind: 'aborted' });
  });

  it("a caller's abort reaches a request waiting for headers and a body still streaming, and leaves nothing on its signal", async () => {
    const listeners = (s: AbortSignal) => (getEventListeners as (t: EventTarget, type: string) => unknown[])(s, 'abort').length;
    const early = new AbortController();
    const waiting = request({ method: 'GET', url: new URL('/slow-headers', base), source: 'files', signal: early.signal });
    setTimeout(() => early.abort(), 50);
    const t0 = Date.now();
    await expect(waiting).rejects.toMatchObject({ kind: 'aborted' });
    expect(Date.now() - t0).toBeLessThan(600); // the headers come after 800 ms
    const late = new AbortController();
    const res = await request({ method: 'GET', url: new URL('/slow-body', base), source: 'files', signal: late.signal });
    const chunks: string[] = [];
    res.body.on('data', (c: Buffer) => {
      chunks.push(String(c));
      late.abort();
    });
    await new Promise((r) => res.body.once('close', r));
    expect(chunks.join('')).not.toContain('chunk3'); // cut off, not read to its end
    const done = new AbortController();
    await (await request({ method: 'GET', url: new URL('/x', base), source: 'files', signal: done.signal })).body.text();
    await new Promise((r) => setImmediate(r));
    expect(listeners(done.signal)).toBe(0);
  });
});

describe('secrets', () => {
  it('hides kit URLs and hosts in any case, tokens and JWTs; user-service hosts and other text stay as they were', () => {
    const s = new Secrets('containers.hoody.icu');
    const ids = `${'a'.repeat(24)}-${'b'.repeat(24)}`;
    const host = `${ids}-files-1.eu1.containers.hoody.icu`;
    const service = `${ids}-http-8080.eu1.containers.hoody.icu`;
    const text = `url https://${host}/api/v1 host ${host.toUpperCase()} token hdy_abcdefgh123 jwt eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl svc ${service}`;
    expect(s.scrub(text)).toBe(`url [kit URL hidden] host [kit URL hidden] token [redacted] jwt [redacted] svc ${service}`);
    expect(s.scrub(text, { keepLinks: true })).toContain(`https://${host}/api/v1`);
    expect(s.scrub(`only ${host.toUpperCase()}`)).toBe('only [kit URL hidden]');
    const plain = `line 1 ${'0123456789abcdef-'.repeat(3000)}`;
    expect(s.scrub(plain)).toBe(plain);
  });
});

describe('linesOf (a whole file in hand)', () => {
  it('keeps at most maxLineBytes of a line, counts all its bytes, and numbers lines as cat -n', () => {
    const long = 'y'.repeat(100_000);
    const file = Buffer.from(`a\n\n${long}\nlast`);
    const { lines, total, stopped } = linesOf(file, 1, 10, { maxLineBytes: 8000 });
    expect(total).toBe(4);
    expect(stopped).toBe(false);
    expect(lines.map((l) => [l.text.length, l.bytes, l.whole, l.ended])).toEqual([
      [1, 1, true, true],
      [0, 0, true, true],
      [8000, 100_000, false, true],
      [4, 4, true, true],
    ]);
    expect(linesOf(file, 3, 3, { maxLineBytes: 10 }).lines).toEqual([{ text: 'yyyyyyyyyy', bytes: 100_000, whole: false, ended: true }]);
    expect(linesOf(Buffer.from('é\nx\n'), 1, 5, { maxLineBytes: 1 }).lines[0]).toMatchObject({ bytes: 2, whole: false }); // cut inside a character
    expect(linesOf(file, 1, 10, { maxBytes: 3 }).lines.length).toBeLessThan(4);
  });

  it('cuts an ASCII file (string fast path) exactly as the streamed reader does', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >>> 16) % n);
    for (let round = 0; round < 3000; round++) {
      const parts: string[] = [];
      for (let i = rnd(12); i > 0; i--) parts.push('ab\tc\0\r'.slice(0, rnd(6)).repeat(rnd(4)) + (rnd(3) ? '\n' : ''));
      const file = Buffer.from(parts.join(''));
      const from = 1 + rnd(6);
      const to = from + rnd(8);
      const bounds = { maxBytes: rnd(3) ? 1 + rnd(30) : undefined, maxLineBytes: rnd(3) ? rnd(8) : undefined, maxScanBytes: rnd(3) ? 1 + rnd(40) : undefined };
      const all = streamedLinesOf(file, from, to, bounds);
      expect(linesOf(file, from, to, bounds), JSON.stringify({ text: file.toString(), from, to, bounds })).toEqual(all);
      // With the `shown` hint: a prefix of the same lines, up to and including the first line past the budget.
      const shown = { chars: rnd(20), perLine: rnd(3), lineChars: 1 + rnd(5) };
      const hinted = linesOf(file, from, to, { ...bounds, shown });
      let used = 0;
      let need = 0;
      while (need < all.lines.length && (used += Math.min(all.lines[need]!.text.length, shown.lineChars) + shown.perLine) <= shown.chars) need++;
      expect(hinted.lines).toEqual(all.lines.slice(0, hinted.lines.length));
      expect(hinted.lines.length).toBeGreaterThanOrEqual(Math.min(need + 1, all.lines.length));
      expect(hinted.total).toBe(all.total);
    }
  });
});

describe('admission', () => {
  it("bounds a call's argument bytes from above without serialising them", () => {
    const cases: unknown[] = [{}, { a: '' }, { path: '/x', content: 'é'.repeat(100) }, { s: '"\\\n\t\u0001\ud800😀' }, { n: -1.2345678901234567e-308, b: true, z: null, arr: [1, 'x', [], {}, [null]] }, { deep: { er: { still: ['é', 1e21, false] } } }];
    for (const c of cases) expect(jsonBytesBound(c)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(c)));
  });
});
