/**
 * Using the shared store without depending on it: an operation on it that fails (or a store
 * known to have failed within the last few seconds) gives way to what this process holds, so a
 * Redis that went away costs a tool call at most one failed command, never the call itself.
 */
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
