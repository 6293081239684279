/**
 * Per-credential admission: how many tool calls one credential may run at once, how many it
 * may start per minute, how large one call's arguments may be. Every refusal names the limit
 * and the flag (and env twin) that raises it.
 *
 * With a store shared by replicas (--redis), both limits count the credential's calls on every
 * replica: its running calls are places in one counted set (each held at most the call's
 * deadline + a margin, so a replica that died gives its places back), its starts one token
 * bucket. A store that fails gives way to this replica's own count for that call.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Config } from './config.js';
import { orLocal, inBackground } from './core/fallback.js';
import { Lru } from './core/lru.js';
import { credentialSpace, type Shared } from './core/shared.js';
import type { Admission, Admitted } from './mcp/build.js';

class Limiter {
  running = 0;
  #tokens: number;
  #at = Date.now();

  constructor(private readonly perMinute: number) {
    this.#tokens = perMinute;
  }

  /** Take one start from the bucket (refilled continuously); false when it is empty. */
  take(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.perMinute, this.#tokens + ((now - this.#at) / 60_000) * this.perMinute);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Seconds until the next start is allowed. */
  get waitS(): number {
    return Math.ceil(((1 - this.#tokens) / this.perMinute) * 60);
  }
}

// Limiters are small; a credential that fell out simply starts again with a full bucket.
const limiters = new Lru<Limiter>(4096);

const KIB = 1024;
const size = (n: number) => (n >= KIB * KIB ? `${+(n / KIB / KIB).toFixed(1)} MiB` : `${+(n / KIB).toFixed(1)} KiB`);

/**
 * At least the UTF-8 bytes of `JSON.stringify(v)` for parsed JSON arguments, without building it:
 * a string unit is at most 6 bytes (`\uXXXX`), a number at most 24 characters. Only a call whose
 * bound passes the limit is measured exactly (a 4 KB write paid ~10 µs for the exact size).
 */
export function jsonBytesBound(v: unknown, depth = 0): number {
  if (typeof v === 'string') return 6 * v.length + 2;
  if (v === null || typeof v !== 'object') return 24;
  if (depth > 32) return Infinity;
  let n = 2;
  if (Array.isArray(v)) for (const x of v) n += jsonBytesBound(x, depth + 1) + 1;
  else for (const [k, x] of Object.entries(v)) n += 6 * k.length + 4 + jsonBytesBound(x, depth + 1);
  return n;
}

/** The admission check for one credential's calls. */
export function admissionFor(config: Config, token: string | undefined): Admission {
  const key = createHash('sha256').update(`${config.rateLimit}\0${token ?? ''}`).digest('hex');
  // The credential's namespace in the shared store: a hash, never the token.
  const shared = config.shared?.scope(credentialSpace(config.apiUrl, config.realm, token ?? ''));
  return (_tool, args, deadlineS) => {
    const bytes = jsonBytesBound(args ?? {}) <= config.maxArgBytes ? 0 : Buffer.byteLength(JSON.stringify(args ?? {}));
    if (bytes > config.maxArgBytes) {
      return { refuse: `arguments of ${size(bytes)} are over the ${size(config.maxArgBytes)} limit (--max-arg-bytes / HOODY_MAX_ARG_BYTES raises it)`, hint: 'send large content in parts, or as a transfer' };
    }
    const l = limiters.getOrCreate(key, () => new Limiter(config.rateLimit));
    return shared ? admitShared(shared, l, config, deadlineS) : admitLocal(l, config);
  };
}

const busy = (running: number): Admitted => ({
  refuse: `${running} calls are already running for this credential, the limit (--max-concurrency / HOODY_MAX_CONCURRENCY raises it)`,
  hint: 'wait for one to finish, then retry',
});
const limited = (config: Config, waitS: number): Admitted => ({
  refuse: `over the rate limit of ${config.rateLimit} calls a minute for this credential (--rate-limit / HOODY_RATE_LIMIT raises it)`,
  hint: `retry in ${waitS} s`,
});

/** This replica's own count (no shared store, or it failed). */
function admitLocal(l: Limiter, config: Config): Admitted {
  if (l.running >= config.maxConcurrency) return busy(l.running);
  if (!l.take()) return limited(config, l.waitS);
  l.running++;
  let released = false;
  return { release: () => void (released || ((released = true), l.running--)) };
}

const FAILED = Symbol('failed');
const failed = (): typeof FAILED => FAILED;
/** How long a place outlives its call's deadline at most (then it lapses, as when its replica died). */
const PLACE_MARGIN_S = 90;

/** Counted on every replica, in one round trip: a place among the credential's running calls and a start from its bucket. */
async function admitShared(shared: Shared, l: Limiter, config: Config, deadlineS: number | null): Promise<Admitted> {
  const id = randomUUID();
  const ttlMs = ((deadlineS ?? 3600) + PLACE_MARGIN_S) * 1000;
  const r = await orLocal(shared, (s) => s.admit('limits:running', id, config.maxConcurrency, ttlMs, `limits:rate:${config.rateLimit}`, config.rateLimit), failed);
  if (r === FAILED) return admitLocal(l, config);
  if (r.running !== undefined) return busy(r.running);
  if (r.waitS !== undefined) return limited(config, r.waitS);
  const leave = () => inBackground(shared, (s) => s.leave('limits:running', id));
  l.running++; // counted here too, for the calls that fall back while this one runs
  let released = false;
  return { release: () => void (released || ((released = true), l.running--, leave())) };
}
