/**
 * The one stream shape: SSE and WebSocket against small local servers — a dropped connection
 * resumes from the last event id with nothing lost or repeated; an abort stops promptly — and
 * the poll loop's deadline.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { request } from '../../src/core/http.js';
import { sse } from '../../src/core/sse.js';
import { poll } from '../../src/core/streams.js';
import { wsStream } from '../../src/core/ws.js';

const LAST = 6;

describe('sse', () => {
  let server: http.Server;
  let base: string;
  const lastIds: (string | undefined)[] = [];
  let connections = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      connections += 1;
      const lastId = req.headers['last-event-id'] as string | undefined;
      lastIds.push(lastId);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 50\n\n');
      if (req.url === '/hold') {
        res.write('id: 1\ndata: first\n\n'); // then nothing, until the client goes
        return;
      }
      const from = Number(lastId ?? 0) + 1;
      const upTo = connections === 1 ? 3 : LAST; // the first connection drops after event 3
      for (let i = from; i <= upTo; i++) res.write(`id: ${i}\nevent: step\ndata: {"n":${i}}\n\n`);
      if (connections === 1) setTimeout(() => res.socket?.destroy(), 20);
      else res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  const connect = (path: string) => (headers: Record<string, string>, signal: AbortSignal) =>
    request({ method: 'GET', url: new URL(path, base), source: 'agent', headers, signal, retry: { attempts: 1 } });

  it('a dropped connection resumes from Last-Event-ID: nothing lost, nothing repeated', async () => {
    const got: { id?: string; type?: string; data: string }[] = [];
    for await (const e of sse({ connect: connect('/events'), source: 'agent', reconnect: false })) got.push(e);
    expect(got.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(got[0]).toEqual({ id: '1', type: 'step', data: '{"n":1}' });
    expect(lastIds).toEqual([undefined, '3']);
  });

  it('starts after `since`', async () => {
    connections = 1; // the server's next answer is a whole one
    const got: string[] = [];
    for await (const e of sse({ connect: connect('/events'), source: 'agent', since: '4', reconnect: false })) got.push(e.id!);
    expect(got).toEqual(['5', '6']);
  });

  it('abort stops promptly', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const seen: string[] = [];
    const run = (async () => {
      for await (const e of sse({ connect: connect('/hold'), source: 'agent', signal: ac.signal })) {
        seen.push(e.data);
        setTimeout(() => ac.abort(), 50);
      }
    })();
    await expect(run).rejects.toMatchObject({ kind: 'aborted' });
    expect(seen).toEqual(['first']);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('ws', () => {
  let wss: WebSocketServer;
  let port: number;
  const sinces: (string | null)[] = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    port = (wss.address() as AddressInfo).port;
    wss.on('connection', (sock, req) => {
      const url = new URL(req.url!, 'http://x');
      const since = url.searchParams.get('since');
      sinces.push(since);
      if (url.pathname === '/hold') return void sock.send(JSON.stringify({ seq: 1 }));
      const first = sinces.filter((s) => s !== undefined).length === 1;
      const from = Number(since ?? 0) + 1;
      for (let i = from; i <= (first ? 3 : LAST); i++) sock.send(JSON.stringify({ seq: i }));
      if (first) setTimeout(() => sock.terminate(), 20); // a drop, not a close
      else sock.close(1000);
    });
  });
  afterAll(() => {
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((r) => wss.close(() => r()));
  });

  const url = (path: string) => (cursor?: string) => {
    const u = new URL(`ws://ws.localhost:${port}${path}`);
    if (cursor) u.searchParams.set('since', cursor);
    return u;
  };

  it('a dropped connection resumes from the last id: nothing lost, nothing repeated', async () => {
    const got: number[] = [];
    for await (const e of wsStream<{ seq: number }>({ url: url('/feed'), source: 'browser', idOf: (m) => String(m.seq) })) got.push(e.data.seq);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sinces).toEqual([null, '3']);
  });

  it('abort stops promptly', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const run = (async () => {
      for await (const e of wsStream<{ seq: number }>({ url: url('/hold'), source: 'browser', signal: ac.signal, idOf: (m) => String(m.seq) })) {
        expect(e.data.seq).toBe(1);
        setTimeout(() => ac.abort(), 50);
      }
    })();
    await expect(run).rejects.toMatchObject({ kind: 'aborted' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('poll', () => {
  it('reads until the caller is done, or once more at the deadline', async () => {
    let n = 0;
    const reads: number[] = [];
    for await (const v of poll({ read: async () => ++n, interval: () => 10 })) {
      reads.push(v);
      if (v === 3) break;
    }
    expect(reads).toEqual([1, 2, 3]);
    const t0 = Date.now();
    let last = 0;
    for await (const at of poll({ read: async () => Date.now(), interval: () => 1_000, until: t0 + 150 })) last = at;
    expect(last - t0).toBeGreaterThanOrEqual(145);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('ends with the error of a failed read, and is not read again', async () => {
    let n = 0;
    const seen: number[] = [];
    const run = (async () => {
      for await (const v of poll({ read: async () => (++n === 2 ? Promise.reject(new Error('kit said no')) : n), interval: () => 5 })) seen.push(v);
    })();
    await expect(run).rejects.toThrow('kit said no');
    await new Promise((r) => setTimeout(r, 30));
    expect({ seen, n }).toEqual({ seen: [1], n: 2 });
  });

  it('stops promptly when the signal aborts, during a wait or a read', async () => {
    for (const during of ['wait', 'read'] as const) {
      const ac = new AbortController();
      const t0 = Date.now();
      let readSignal: AbortSignal | undefined;
      const run = (async () => {
        for await (const _ of poll({
          read: (signal) => {
            readSignal = signal;
            return during === 'read' ? new Promise<number>(() => undefined) : Promise.resolve(1);
          },
          interval: () => 10_000,
          signal: ac.signal,
        }));
      })();
      setTimeout(() => ac.abort(), 30);
      await expect(run).rejects.toMatchObject({ kind: 'aborted' });
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(readSignal?.aborted).toBe(true);
    }
  });
});
