/**
 * Container claims for the agent kits (workspaces, agent-N): minted with
 * POST /containers/{id}/authorize, sent on every call as
 *   X-Hoody-Container-Claim: JSON.stringify({kid, payload_b64, signature_hex})
 *   X-Hoody-Token: the same token that minted it
 * (seed-agent.md §2). Cached per container until shortly before `expires_in` runs out (the seeds
 * disagree on the TTL, so the returned value is trusted); re-minted when the kit refuses it.
 */
import type { ContainerClaim, ControlPlane } from './control.js';

/** Kits that want a claim; every other kit URL is a capability by itself [S:475]. */
export const CLAIM_KITS = new Set(['workspaces', 'agent']);

/** Kit refusals that a fresh claim can cure [S:931]. */
export const CLAIM_CODES = new Set(['CLAIM_REQUIRED', 'TOKEN_REQUIRED', 'CLAIM_MALFORMED', 'CLAIM_INVALID']);

interface Cached {
  claim: ContainerClaim;
  refreshAt: number;
}

export class Claims {
  readonly #cache = new Map<string, Cached>();
  readonly #pending = new Map<string, Promise<Cached>>();
  /** Hears each claim minted (so it can be kept out of output). */
  onMint?: (claim: ContainerClaim) => void;

  constructor(private readonly control: ControlPlane) {}

  /** The headers an agent-kit call carries. Mints (once, shared by concurrent callers) when needed. */
  async headers(containerId: string, signal?: AbortSignal): Promise<Record<string, string>> {
    let c = this.#cache.get(containerId);
    if (!c || Date.now() >= c.refreshAt) c = await this.#mint(containerId, signal);
    return { 'x-hoody-container-claim': JSON.stringify(c.claim), 'x-hoody-token': this.control.token };
  }

  invalidate(containerId: string): void {
    this.#cache.delete(containerId);
  }

  #mint(containerId: string, signal?: AbortSignal): Promise<Cached> {
    const inflight = this.#pending.get(containerId);
    if (inflight) return inflight;
    const p = this.control
      .authorize(containerId, signal)
      .then((r) => {
        this.onMint?.(r.container_claim);
        const ttlMs = Math.max(10, Number(r.expires_in) || 3600) * 1000;
        // Refresh at 80% of the lifetime, and never later than a minute before expiry.
        const c = { claim: r.container_claim, refreshAt: Date.now() + Math.min(ttlMs * 0.8, Math.max(ttlMs - 60_000, ttlMs / 2)) };
        this.#cache.set(containerId, c);
        return c;
      })
      .finally(() => this.#pending.delete(containerId));
    this.#pending.set(containerId, p);
    return p;
  }
}
