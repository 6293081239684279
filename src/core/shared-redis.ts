/**
 * The shared store on Redis (or Valkey) through ioredis: one connection for commands, one for
 * subscriptions. Leases, token buckets and counted places are single Lua scripts, so two
 * replicas never interleave inside one; time comes from the Redis server, not from each
 * replica's clock. A command waits at most COMMAND_MS: a store that stopped answering fails
 * the caller fast (who falls back to what it holds in process) instead of holding a tool call.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Shared } from './shared.js';

const COMMAND_MS = 2_000;

const LEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

// Admission in one round trip: a place among the running (a sorted set scored by expiry) and a
// start from a token bucket (a hash {tokens, at}). Returns {running, 0} when the set is full,
// {-1, seconds to wait} when the bucket is empty (nothing taken), {-1, 0} when admitted.
const ADMIT = `
local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
local n = redis.call('zcard', KEYS[1])
if n >= tonumber(ARGV[2]) then return {n, 0} end
local rate = tonumber(ARGV[4])
local b = redis.call('hmget', KEYS[2], 'tokens', 'at')
local tokens = tonumber(b[1]) or rate
local at = tonumber(b[2]) or now
tokens = math.min(rate, tokens + (now - at) / 60000 * rate)
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) / rate * 60) else tokens = tokens - 1 end
redis.call('hset', KEYS[2], 'tokens', tostring(tokens), 'at', now)
redis.call('pexpire', KEYS[2], 120000)
if wait > 0 then return {-1, wait} end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if redis.call('pttl', KEYS[1]) < tonumber(ARGV[3]) then redis.call('pexpire', KEYS[1], ARGV[3]) end
return {-1, 0}`;

// Counted places in a sorted set scored by expiry; returns -1 when in, else how many run.
const ENTER = `
local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
local n = redis.call('zcard', KEYS[1])
if n >= tonumber(ARGV[2]) then return n end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
-- Never shorten the set's life below a longer place already in it.
if redis.call('pttl', KEYS[1]) < tonumber(ARGV[3]) then redis.call('pexpire', KEYS[1], ARGV[3]) end
return -1`;

type Scripted = Redis & {
  hoodyLease(key: string, owner: string, ttl: number): Promise<number>;
  hoodyRelease(key: string, owner: string): Promise<number>;
  hoodyAdmit(running: string, bucket: string, id: string, max: number, ttl: number, perMinute: number): Promise<[number, number]>;
  hoodyEnter(key: string, id: string, max: number, ttl: number): Promise<number>;
};

const PREFIX = 'hoody-mcp:';

/** The connections and the listeners of one process; `RedisShared` views share them. */
class Connection {
  readonly replica = randomUUID();
  readonly listeners = new Map<string, Set<(m: unknown) => void>>();
  readonly cmd: Scripted;
  readonly sub: Redis;
  lastError?: string;

  constructor(url: string) {
    const options = {
      connectTimeout: COMMAND_MS,
      commandTimeout: COMMAND_MS,
      maxRetriesPerRequest: 1,
      retryStrategy: (n: number) => Math.min(100 * n, 2_000),
      lazyConnect: true,
    };
    // No offline queue for commands: while the connection is down a command fails at once (the
    // caller goes on without the store) instead of waiting for a reconnect or the timeout.
    this.cmd = new Redis(url, { ...options, enableOfflineQueue: false }) as Scripted;
    this.cmd.defineCommand('hoodyLease', { numberOfKeys: 1, lua: LEASE });
    this.cmd.defineCommand('hoodyRelease', { numberOfKeys: 1, lua: RELEASE });
    this.cmd.defineCommand('hoodyAdmit', { numberOfKeys: 2, lua: ADMIT });
    this.cmd.defineCommand('hoodyEnter', { numberOfKeys: 1, lua: ENTER });
    // A subscribed connection may sit idle for hours: no command timeout on it; it keeps its queue
    // so subscriptions made while it reconnects go through (ioredis re-subscribes on reconnect).
    this.sub = new Redis(url, { ...options, commandTimeout: undefined });
    // Errors surface on the commands that hit them; the connection retries by itself. The last
    // one says why a connection could not be made (refused, unknown host, auth).
    this.cmd.on('error', (e: Error) => (this.lastError = e.message));
    this.sub.on('error', (e: Error) => (this.lastError = e.message));
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const set = this.listeners.get(channel.toString());
      if (!set) return;
      let value: unknown;
      try {
        value = JSON.parse(message.toString());
      } catch {
        return;
      }
      for (const l of set) {
        try {
          l(value);
        } catch {
          /* one listener's failure is its own */
        }
      }
    });
  }
}

export class RedisShared implements Shared {
  private constructor(
    private readonly c: Connection,
    private readonly ns: string,
  ) {}

  /** Connect (failing within a few seconds when nothing answers at `url`). */
  static async open(url: string): Promise<RedisShared> {
    const c = new Connection(url);
    try {
      await Promise.all([c.cmd.connect(), c.sub.connect()]);
    } catch (err) {
      c.cmd.disconnect();
      c.sub.disconnect();
      const why = c.lastError ?? (err instanceof Error ? err.message : String(err));
      throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${why} — start it there, or fix --redis / HOODY_REDIS_URL`);
    }
    return new RedisShared(c, PREFIX);
  }

  get replica(): string {
    return this.c.replica;
  }

  scope(ns: string): Shared {
    return new RedisShared(this.c, `${this.ns}${ns}:`);
  }

  #k(key: string): string {
    return this.ns + key;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const v = await this.c.cmd.get(this.#k(key));
    return v === null ? undefined : (JSON.parse(v) as T);
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.c.cmd.set(this.#k(key), JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    return (await this.c.cmd.set(this.#k(key), JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
  }

  async del(key: string): Promise<void> {
    await this.c.cmd.del(this.#k(key));
  }

  async append(key: string, items: unknown[], max: number, ttlMs: number): Promise<void> {
    if (!items.length) return;
    const k = this.#k(key);
    await this.c.cmd
      .multi()
      .rpush(k, ...items.map((i) => JSON.stringify(i)))
      .ltrim(k, -Math.max(1, max), -1)
      .pexpire(k, Math.max(1, Math.round(ttlMs)))
      .exec();
  }

  async list<T>(key: string): Promise<T[]> {
    return (await this.c.cmd.lrange(this.#k(key), 0, -1)).map((v) => JSON.parse(v) as T);
  }

  async lease(key: string, ttlMs: number): Promise<boolean> {
    return (await this.c.cmd.hoodyLease(this.#k(key), this.c.replica, Math.max(1, Math.round(ttlMs)))) === 1;
  }

  async release(key: string): Promise<void> {
    await this.c.cmd.hoodyRelease(this.#k(key), this.c.replica);
  }

  async publish(channel: string, message: unknown): Promise<void> {
    await this.c.cmd.publish(this.#k(channel), JSON.stringify(message));
  }

  async subscribe(channel: string, listener: (message: unknown) => void): Promise<() => Promise<void>> {
    const name = this.#k(channel);
    let set = this.c.listeners.get(name);
    if (!set) {
      set = new Set();
      this.c.listeners.set(name, set);
    }
    set.add(listener);
    if (set.size === 1) {
      try {
        await this.c.sub.subscribe(name);
      } catch (err) {
        set.delete(listener);
        if (!set.size) this.c.listeners.delete(name);
        throw err;
      }
    }
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      set.delete(listener);
      if (set.size || this.c.listeners.get(name) !== set) return;
      this.c.listeners.delete(name);
      await this.c.sub.unsubscribe(name).catch(() => undefined);
    };
  }

  async admit(running: string, id: string, max: number, ttlMs: number, bucket: string, perMinute: number): Promise<{ running?: number; waitS?: number }> {
    const [n, wait] = await this.c.cmd.hoodyAdmit(this.#k(running), this.#k(bucket), id, max, Math.max(1, Math.round(ttlMs)), perMinute);
    return n >= 0 ? { running: n } : wait > 0 ? { waitS: wait } : {};
  }

  async enter(key: string, id: string, max: number, ttlMs: number): Promise<number | undefined> {
    const n = await this.c.cmd.hoodyEnter(this.#k(key), id, max, Math.max(1, Math.round(ttlMs)));
    return n < 0 ? undefined : n;
  }

  async leave(key: string, id: string): Promise<void> {
    await this.c.cmd.zrem(this.#k(key), id);
  }

  async ping(): Promise<boolean> {
    if (this.c.cmd.status !== 'ready') return false;
    return this.c.cmd.ping().then(
      (r) => r === 'PONG',
      () => false,
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.c.cmd.quit(), this.c.sub.quit()]);
  }
}

/** A Redis URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return 'the given URL';
  }
}
