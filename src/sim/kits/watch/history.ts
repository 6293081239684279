/**
 * One watcher's replay buffer (bounded by events and bytes) and its SSE clients: cursors that fell
 * out of the buffer get HISTORY_GAP; a client that cannot keep up gets `event: lag` and is closed.
 */
import type { ServerResponse } from 'node:http';
import type { SimCore } from '../../state.js';
import { watchError, WATCH_LIMITS, type Cursor, type WatchEvent } from './types.js';

export interface Stored {
  ev: WatchEvent;
  ms: number;
  json: string;
  bytes: number;
}

interface Client {
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

export interface WatchStats {
  events_seen: number;
  events_broadcast: number;
  events_dropped: number;
  stream_errors: number;
  active_clients: number;
}

export class History {
  private buf: Stored[] = [];
  private head = 0;
  private bytes = 0;
  /** Newest event evicted from the replay buffer (cursors older than it have a gap). */
  private evicted?: { id: number; ms: number };
  private readonly clients = new Set<Client>();

  constructor(
    private readonly core: SimCore,
    private readonly watcherId: string,
    private readonly limits: { events: number; bytes: number },
    private readonly stats: WatchStats,
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Stores the event (evicting the oldest beyond the limits) and sends it to every client. */
  push(ev: WatchEvent, ms: number): void {
    const json = JSON.stringify(ev);
    const stored: Stored = { ev, ms, json, bytes: Buffer.byteLength(json) };
    this.buf.push(stored);
    this.bytes += stored.bytes;
    while (this.buf.length - this.head > 1 && (this.buf.length - this.head > this.limits.events || this.bytes > this.limits.bytes)) {
      const old = this.buf[this.head++] as Stored;
      this.bytes -= old.bytes;
      this.evicted = { id: old.ev.id, ms: old.ms };
    }
    if (this.head > 1024 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    this.stats.events_broadcast++;
    for (const c of [...this.clients]) this.send(c, stored);
  }

  retained(): Stored[] {
    return this.buf.slice(this.head);
  }

  /** Events strictly after the cursor; HISTORY_GAP when evicted events lie after it. */
  after(cursor: Cursor): Stored[] {
    const all = this.retained();
    if (cursor.kind === 'none') return all;
    const ev = this.evicted;
    const gap = ev && (cursor.kind === 'id' ? cursor.id < ev.id : cursor.ms < ev.ms);
    if (gap) {
      const details = { oldest_available_id: all[0]?.ev.id ?? null, newest_available_id: all[all.length - 1]?.ev.id ?? null, requested_cursor: cursor.raw };
      const message = `Requested ${cursor.kind === 'id' ? 'since_id' : 'since_timestamp'} is older than available replay history`;
      throw watchError(409, 'HISTORY_GAP', message, JSON.stringify(details));
    }
    const key = (s: Stored): boolean => (cursor.kind === 'id' ? s.ev.id > cursor.id : s.ms > cursor.ms);
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(all[mid] as Stored)) hi = mid;
      else lo = mid + 1;
    }
    return all.slice(lo);
  }

  /* ------------------------------------------------------------------ SSE clients */

  /** Streams to `res` (headers already sent): `replay` first, then live events, keepalive comments. */
  attach(res: ServerResponse, replay: Stored[]): void {
    const c: Client = { res };
    this.clients.add(c);
    this.stats.active_clients = this.clients.size;
    const drop = (): void => {
      this.core.cancel(c.timer);
      if (this.clients.delete(c)) this.stats.active_clients = this.clients.size;
    };
    res.on('close', drop);
    res.on('error', () => {
      this.stats.stream_errors++;
      drop();
    });
    const tick = (): void => {
      if (!this.clients.has(c)) return;
      res.write(': keepalive\n\n');
      c.timer = this.core.later(WATCH_LIMITS.keepaliveMs, tick);
    };
    c.timer = this.core.later(WATCH_LIMITS.keepaliveMs, tick);
    for (const s of replay) this.send(c, s);
  }

  private send(c: Client, s: Stored): void {
    if (!this.clients.has(c)) return;
    if (c.res.writableLength > WATCH_LIMITS.lagBytes) {
      // The client cannot keep up: tell it, then close (data loss → re-list) [S:10865].
      this.stats.events_dropped++;
      this.stats.stream_errors++;
      const lag = { type: 'lag', watcher_id: this.watcherId, last_event_id: s.ev.id, message: 'client lagged behind the event stream; resume with since_id or re-list' };
      c.res.write(`event: lag\ndata: ${JSON.stringify(lag)}\n\n`);
      this.endClient(c);
      return;
    }
    c.res.write(`id: ${s.ev.id}\nevent: file_event\ndata: ${s.json}\n\n`);
  }

  private endClient(c: Client): void {
    this.core.cancel(c.timer);
    this.clients.delete(c);
    this.stats.active_clients = this.clients.size;
    c.res.end();
  }

  /** Ends every stream. */
  close(): void {
    for (const c of [...this.clients]) this.endClient(c);
  }
}
