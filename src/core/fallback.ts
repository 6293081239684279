/**
 * Using the shared store without depending on it: an operation on it that fails (or a store
 * known to have failed within the last few seconds) gives way to what this process holds, so a
 * Redis that went away costs a tool call at most one failed command, never the call itself.
 */
import { Lru } from './lru.js';
import type { Shared } from './shared.js';

/** How long a store that failed is left alone before it is tried again. */
const DOWN_MS = 3_000;
/** Per connection (a replica id): when it last failed. */
const downSince = new Map<string, number>();

/** Per connection: a probe of a store that was down is under way (one at a time). */
const probing = new Set<string>();

/**
 * `op` on the shared store; without one, while it is down, or when `op` fails: `local()`. Once
 * DOWN_MS have passed, one call probes the store again while the others keep going without it.
 */
export async function orLocal<T, L = T>(shared: Shared | undefined, op: (s: Shared) => Promise<T>, local: () => L | Promise<L>): Promise<T | L> {
  if (!shared) return local();
  const id = shared.replica;
  const since = downSince.get(id);
  if (since !== undefined && (Date.now() - since < DOWN_MS || probing.has(id))) return local();
  if (since !== undefined) probing.add(id);
  try {
    const v = await op(shared);
    downSince.delete(id);
    return v;
  } catch {
    downSince.set(id, Date.now());
    return local();
  } finally {
    if (since !== undefined) probing.delete(id);
  }
}

/** A write nobody waits for (what is kept in process stays the answer if it fails). */
export function inBackground(shared: Shared | undefined, op: (s: Shared) => Promise<unknown>): void {
  if (shared) void orLocal(shared, op, () => undefined);
}

/**
 * How far something was shown to this caller (a job's output, an agent session's events), per key:
 * kept here, and with a shared store also for every replica. `latest` takes the later of the
 * two (adopting it here); `share` tells the other replicas this one's position.
 */
export class Cursors {
  readonly #here: Lru<number>;

  constructor(
    private readonly shared: Shared | undefined,
    /** The store's key kind (`job-seen`, `agent`). */
    private readonly kind: string,
    private readonly ttlMs: number,
    max: number,
  ) {
    this.#here = new Lru(max);
  }

  get(key: string): number | undefined {
    return this.#here.get(key);
  }

  set(key: string, n: number): void {
    this.#here.set(key, n);
  }

  /** This replica's position, or a later one another replica stored. */
  async latest(key: string): Promise<number | undefined> {
    const here = this.#here.get(key);
    if (!this.shared) return here;
    const there = await orLocal(this.shared, (s) => s.get<number>(`${this.kind}:${key}`), () => undefined);
    if (typeof there !== 'number' || !Number.isSafeInteger(there) || there <= (here ?? -1)) return here;
    this.#here.set(key, there);
    return there;
  }

  /** Store this replica's position for the others, without waiting. */
  share(key: string): void {
    const n = this.#here.get(key);
    if (n !== undefined) inBackground(this.shared, (s) => s.set(`${this.kind}:${key}`, n, this.ttlMs));
  }
}
