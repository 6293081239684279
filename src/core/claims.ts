/**
 * Container claims for the agent kits (workspaces, agent-N): minted with
 * POST /containers/{id}/authorize, sent on every call as
 *   X-Hoody-Container-Claim: JSON.stringify({kid, payload_b64, signature_hex})
 *   X-Hoody-Token: the same token that minted it
 * (seed-agent.md §2). Cached per container until shortly before `expires_in` runs out (the seeds
 * disagree on the TTL, so the returned value is trusted); re-minted when the kit refuses it.
 *
 * With a store shared by replicas (`shared`, --redis), a claim minted by one replica is kept
 * there until its refresh time and used by all; minting is single-flight across replicas: the
 * replica that takes a short lock mints, the others poll for its claim (bounded) and mint
 * themselves only if it never comes (the lock holder died or is too slow).
 */
import type { ContainerClaim, ControlPlane } from './control.js';
import { inBackground, orLocal } from './fallback.js';
import { sleep } from './http.js';
import { Lru } from './lru.js';
import type { Shared } from './shared.js';

/** Kits that want a claim; every other kit URL is a capability by itself [S:475]. */
export const CLAIM_KITS = new Set(['workspaces', 'agent']);

/** Kit refusals that a fresh claim can cure [S:931]. */
export const CLAIM_CODES = new Set(['CLAIM_REQUIRED', 'TOKEN_REQUIRED', 'CLAIM_MALFORMED', 'CLAIM_INVALID']);

interface Cached {
  claim: ContainerClaim;
  refreshAt: number;
}

/** How long one replica may hold the minting lock; how often the others look for its claim; how long they wait at most. */
const LOCK_MS = 5_000;
const POLL_MS = 50;
const WAIT_MS = 2 * LOCK_MS;

export class Claims {
  readonly #cache = new Map<string, Cached>();
  readonly #pending = new Map<string, Promise<Cached>>();
  /** Per container, the signature of the claim a kit last refused (not to be taken back from the store). */
  readonly #refused = new Lru<string>(500);
  /** Hears each claim minted or taken from the shared store (so it can be kept out of output). */
  onMint?: (claim: ContainerClaim) => void;
  /** This credential's part of the store the replicas share, when there is one. */
  shared?: Shared;

  constructor(private readonly control: ControlPlane) {}

  /** The headers an agent-kit call carries. Mints (once, shared by concurrent callers) when needed. */
  async headers(containerId: string, signal?: AbortSignal): Promise<Record<string, string>> {
    let c = this.#cache.get(containerId);
    if (!c || Date.now() >= c.refreshAt) c = await this.#mint(containerId, signal);
    return { 'x-hoody-container-claim': JSON.stringify(c.claim), 'x-hoody-token': this.control.token };
  }

  invalidate(containerId: string): void {
    const c = this.#cache.get(containerId);
    this.#cache.delete(containerId);
    // The shared copy, if it is this one, is deleted by the next mint (not blindly here: another replica may have replaced it).
    if (this.shared && c) this.#refused.set(containerId, c.claim.signature_hex);
  }

  #mint(containerId: string, signal?: AbortSignal): Promise<Cached> {
    const inflight = this.#pending.get(containerId);
    if (inflight) return inflight;
    const p = (this.shared ? this.#obtain(this.shared, containerId, signal) : this.#authorize(containerId, signal)).finally(() => this.#pending.delete(containerId));
    this.#pending.set(containerId, p);
    return p;
  }

  async #authorize(containerId: string, signal?: AbortSignal): Promise<Cached> {
    const r = await this.control.authorize(containerId, signal);
    const ttlMs = Math.max(10, Number(r.expires_in) || 3600) * 1000;
    // Refresh at 80% of the lifetime, and never later than a minute before expiry.
    return this.#adopt(containerId, { claim: r.container_claim, refreshAt: Date.now() + Math.min(ttlMs * 0.8, Math.max(ttlMs - 60_000, ttlMs / 2)) });
  }

  #adopt(containerId: string, c: Cached): Cached {
    this.onMint?.(c.claim);
    this.#cache.set(containerId, c);
    return c;
  }

  #usable(containerId: string, c: Cached | undefined): boolean {
    return !!c?.claim && typeof c.claim.signature_hex === 'string' && typeof c.refreshAt === 'number' && Date.now() < c.refreshAt && c.claim.signature_hex !== this.#refused.get(containerId);
  }

  /** The claim from the shared store, or minted here under the lock (the others wait for it); a failing store: minted here. */
  async #obtain(shared: Shared, containerId: string, signal?: AbortSignal): Promise<Cached> {
    const key = `claim:${containerId}`;
    const lock = `claim-lock:${containerId}`;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const there = await orLocal(shared, (s) => s.get<Cached>(key), () => null);
      if (there === null) return this.#authorize(containerId, signal);
      if (there && this.#usable(containerId, there)) return this.#adopt(containerId, there);
      if (there && there.claim?.signature_hex === this.#refused.get(containerId)) await orLocal(shared, (s) => s.del(key), () => undefined);
      const mine = await orLocal(shared, (s) => s.lease(lock, LOCK_MS), () => null);
      if (mine !== false || Date.now() >= deadline) {
        try {
          // The lock may be ours because another replica has just minted and let go of it: look again.
          const minted = mine ? await orLocal(shared, (s) => s.get<Cached>(key), () => undefined) : undefined;
          if (minted && this.#usable(containerId, minted)) return this.#adopt(containerId, minted);
          const c = await this.#authorize(containerId, signal);
          await orLocal(shared, (s) => s.set(key, c, c.refreshAt - Date.now()), () => undefined);
          return c;
        } finally {
          if (mine) inBackground(shared, (s) => s.release(lock));
        }
      }
      await sleep(POLL_MS, signal);
    }
  }
}
