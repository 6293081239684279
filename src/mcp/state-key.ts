/**
 * The key `input_required` round states are signed with. One process: a random key of its own.
 * Replicas sharing a store (--redis): one key for all, kept in the store, so a round asked
 * through one replica is answered through any (a 2026-07-28 retry is a new HTTP request, which
 * the balancer may send elsewhere). Without the store nothing here changes.
 *
 * The key lives in the store (deployment-wide, `hoody-mcp:deployment:request-state-key`) as long
 * as a replica renews it; a replica that finds another key there adopts it and still verifies
 * what it signed with its own before (a round is valid for 15 minutes).
 */
import { randomBytes } from 'node:crypto';

/** What this needs of the store the replicas share (the core's `Shared` is one). */
export interface KeyStore {
  scope(ns: string): KeyStore;
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean>;
}

const NAME = 'request-state-key';
/** How long the key stays in the store without a replica renewing it. */
const KEEP_MS = 7 * 24 * 3600_000;
const RENEW_MS = 3600_000;

let current: Uint8Array = randomBytes(32);
/** Keys this process signed with before it adopted the current one (newest first, at most 2). */
let earlier: Uint8Array[] = [];

/** The key to sign with now, then the ones still accepted. */
export function stateKeys(): Uint8Array[] {
  return earlier.length ? [current, ...earlier] : [current];
}

/** Use the key of the replicas sharing `shared`, made by this one when none is there yet. */
async function sync(shared: KeyStore): Promise<void> {
  const mine = Buffer.from(current).toString('base64');
  await shared.setIfAbsent(NAME, mine, KEEP_MS);
  const there = await shared.get<string>(NAME);
  if (there === mine) return void (await shared.set(NAME, mine, KEEP_MS)); // renewed
  const key = typeof there === 'string' ? Buffer.from(there, 'base64') : undefined;
  if (!key || key.length < 32) return;
  earlier = [current, ...earlier].slice(0, 2);
  current = key;
}

/**
 * Sign round states with the key every replica on `shared` uses, renewed hourly while this
 * process runs (a store that fails leaves the current key in use). Returns the stop.
 */
export async function shareStateKey(shared: KeyStore): Promise<() => void> {
  const space = shared.scope('deployment');
  await sync(space).catch(() => undefined);
  const timer = setInterval(() => void sync(space).catch(() => undefined), RENEW_MS);
  timer.unref();
  return () => clearInterval(timer);
}
