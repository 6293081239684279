/**
 * State the replicas of one deployment share (`--redis`): values that outlive the kit's memory
 * (finished jobs, transcripts), leases (one upstream watcher per container across replicas),
 * pub/sub (fan-out of what that watcher sees), and counters (per-credential limits).
 *
 * Without `--redis` nothing uses this: every cache stays in-process exactly as on one machine.
 * Every key and channel lives under a namespace (`scope`): a credential's hash, never the token.
 * Everything expires. A shared store that fails is not fatal: callers fall back to what they
 * hold in process and /readyz reports it.
 */
import { createHash } from 'node:crypto';

export interface Shared {
  /** This process among the replicas (the owner written into leases). */
  readonly replica: string;
  /** A view whose keys and channels are prefixed with `ns` (nested views prefix again). */
  scope(ns: string): Shared;
  /** A JSON value, or undefined when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** Set only when absent: true when this call set it (a lock, a single-flight claim). */
  setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Add `items` (JSON values) to the end of the list at `key`, keeping its last `max`; the list expires after `ttlMs`. */
  append(key: string, items: unknown[], max: number, ttlMs: number): Promise<void>;
  /** The list at `key`, oldest first (empty when absent). */
  list<T>(key: string): Promise<T[]>;
  /** Take or renew `key` for this replica for `ttlMs`: true while this replica holds it. */
  lease(key: string, ttlMs: number): Promise<boolean>;
  /** Give `key` up if this replica holds it. */
  release(key: string): Promise<void>;
  publish(channel: string, message: unknown): Promise<void>;
  /** Hear every message on `channel` (from any replica, this one included) until the returned stop. */
  subscribe(channel: string, listener: (message: unknown) => void): Promise<() => Promise<void>>;
  /**
   * Admission in one step: count `id` in as one of at most `max` running at `running` (for at most
   * `ttlMs`) and take one start from the token bucket at `bucket` (`perMinute`, refilled
   * continuously). `{running}`: full, nothing taken; `{waitS}`: no start left, not counted in;
   * `{}`: in (give the place back with `leave(running, id)`).
   */
  admit(running: string, id: string, max: number, ttlMs: number, bucket: string, perMinute: number): Promise<{ running?: number; waitS?: number }>;
  /**
   * Count `id` in as one of at most `max` running at `key` (each counted for at most `ttlMs`,
   * so a replica that died does not hold its places forever): undefined when in, else how many run.
   */
  enter(key: string, id: string, max: number, ttlMs: number): Promise<number | undefined>;
  leave(key: string, id: string): Promise<void>;
  /** Whether the store answers now (within about a second). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The namespace of one credential: a hash of where it is used and the token, never the token. */
export function credentialSpace(apiUrl: string, realm: string | undefined, token: string): string {
  return createHash('sha256').update(`hoody-mcp shared\0${apiUrl}\0${realm ?? ''}\0${token}`).digest('hex').slice(0, 32);
}

/** Open the shared store named by a `redis://` / `rediss://` URL (loaded only when configured). */
export async function openShared(url: string): Promise<Shared> {
  const { RedisShared } = await import('./shared-redis.js');
  return RedisShared.open(url);
}
