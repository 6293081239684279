/**
 * The simulator's in-memory world: users, tokens, projects, rentals, containers, and the shared
 * services (timers, sandbox paths, isolation, claim signer, kit registry) every handler reaches
 * through {@link SimCore}.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { ClaimSigner } from './claims.js';
import type { KitRuntime } from './kits/types.js';
import type { Isolator } from './sandbox.js';
import type { ContainerRec, ProjectRec, RentalRec, TokenRec, UserRec } from './records.js';
import type { ContainerStatus, SimExecution, SimOptions, SimQuirks, SimRequestLog } from './types.js';
import { isoNow, newId } from './util.js';

export interface ResolvedOptions {
  provisionMs: number;
  warmupMs: number;
  lifecycleMs: number;
  resultTtlMs: number;
  idleReapMs: number;
  abortGraceMs: number;
  claimTtlS: number;
  signing: boolean;
}

/** Test switches for the claims minted with one token (keyed by its secret): a key the kits do not trust. */
export interface ClaimRule {
  forge?: boolean;
}

export class SimCore {
  readonly users = new Map<string, UserRec>();
  readonly tokens = new Map<string, TokenRec>();
  readonly projects = new Map<string, ProjectRec>();
  readonly rentals = new Map<string, RentalRec>();
  readonly containers = new Map<string, ContainerRec>();
  readonly signer = new ClaimSigner();
  /** Signs forged claims: same `kid`, another key (`sim.agent.forgeClaims`). */
  readonly forger = new ClaimSigner();
  readonly claimRules = new Map<string, ClaimRule>();
  /** The last claims minted (`payload_b64` → the token's secret), and those `sim.agent.expireClaims` made past their expiry. */
  readonly mintedClaims = new Map<string, string>();
  readonly expiredClaims = new Set<string>();
  readonly executions: SimExecution[] = [];
  readonly requests: SimRequestLog[] = [];
  readonly kits = new Map<string, KitRuntime>();
  port = 0;
  closing = false;
  private readonly jwtSecret = randomBytes(32);
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly opts: ResolvedOptions,
    readonly quirks: SimQuirks,
    readonly dataDir: string,
    readonly isolator: Isolator,
  ) {}

  static resolve(o: SimOptions): ResolvedOptions {
    return {
      provisionMs: o.provisionMs ?? 2000,
      warmupMs: o.warmupMs ?? 1000,
      lifecycleMs: o.lifecycleMs ?? 300,
      resultTtlMs: o.resultTtlMs ?? 300_000,
      idleReapMs: o.idleReapMs ?? 300_000,
      abortGraceMs: o.abortGraceMs ?? 1000,
      claimTtlS: o.claimTtlS ?? 3600,
      signing: o.signing ?? true,
    };
  }

  /* ---------------------------------------------------------------- timers */

  /** setTimeout that close() clears. */
  later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closing) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Resolves after `ms` unless the sim closes first (then never resolves the work, but frees the timer). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /* ---------------------------------------------------------------- paths */

  sandboxRoot(containerId: string): string {
    return path.join(this.dataDir, 'containers', containerId);
  }

  snapshotDir(containerId: string, name: string): string {
    return path.join(this.dataDir, 'snapshots', containerId, name);
  }

  /* ---------------------------------------------------------------- containers */

  kitsReady(c: ContainerRec): boolean {
    return c.status === 'running' && Date.now() >= c.kitsReadyAt;
  }

  setStatus(c: ContainerRec, to: ContainerStatus, triggeredBy = 'user', metadata: Record<string, unknown> = {}): void {
    const from = c.status;
    const now = Date.now();
    c.statusLogs.push({
      id: newId(),
      container_id: c.id,
      from_status: from,
      to_status: to,
      transition_time: new Date(now).toISOString(),
      duration_ms: now - c.statusSince,
      triggered_by: triggeredBy,
      metadata,
    });
    c.status = to;
    c.statusSince = now;
    c.updated_at = isoNow();
  }

  /** Kits answer the proxy 502 for `ms` from now (default: the configured warm-up). */
  warmUp(c: ContainerRec, ms = this.opts.warmupMs): void {
    c.kitsReadyAt = Date.now() + ms;
    this.isolator.prepare(this.sandboxRoot(c.id));
  }

  /** Kills every process of a container (all kits). */
  stopProcesses(containerId: string): void {
    for (const kit of this.kits.values()) kit.onStop?.(containerId);
    // The mount namespace is rebuilt on next use (a restored sandbox has new directories).
    this.isolator.release(this.sandboxRoot(containerId));
  }

  pauseProcesses(containerId: string, paused: boolean): void {
    for (const kit of this.kits.values()) kit.onPause?.(containerId, paused);
  }

  /* ---------------------------------------------------------------- JWTs */

  /**
   * JWT-shaped tokens (HS256 over a per-sim secret). Anything not starting with `hdy_` is treated
   * as a JWT, as the real API does with `startsWith(tokenPrefix)` [S:440].
   */
  issueJwt(userId: string, typ: 'access' | 'refresh', ttlS: number): { token: string; exp: number } {
    const iat = Date.now();
    const exp = Math.floor(iat / 1000) + ttlS;
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: userId, typ, iat_ms: iat, iat: Math.floor(iat / 1000), exp, jti: randomBytes(8).toString('hex') })).toString('base64url');
    const sig = createHmac('sha256', this.jwtSecret).update(`${header}.${payload}`).digest('base64url');
    return { token: `${header}.${payload}.${sig}`, exp };
  }

  verifyJwt(token: string, typ: 'access' | 'refresh'): UserRec | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    const want = createHmac('sha256', this.jwtSecret).update(`${h}.${p}`).digest();
    const got = Buffer.from(s, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    let payload: { sub?: string; typ?: string; exp?: number; iat_ms?: number };
    try {
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof payload;
    } catch {
      return undefined;
    }
    if (payload.typ !== typ || typeof payload.exp !== 'number' || payload.exp * 1000 <= Date.now()) return undefined;
    const user = payload.sub ? this.users.get(payload.sub) : undefined;
    if (!user || (payload.iat_ms ?? 0) < user.tokensRevokedAt) return undefined;
    return user;
  }

  newAuthTokenSecret(): string {
    return 'hdy_' + randomBytes(16).toString('hex');
  }

  findTokenBySecret(secret: string): TokenRec | undefined {
    for (const t of this.tokens.values()) if (t.token === secret) return t;
    return undefined;
  }
}

const ANIMALS = ['clever-dolphin', 'brave-otter', 'quiet-falcon', 'swift-lynx', 'calm-heron', 'bold-badger'];
export function randomAlias(): string {
  return `${ANIMALS[Math.floor(Math.random() * ANIMALS.length)]}-${randomBytes(2).toString('hex')}`;
}

export function randomColor(): string {
  return '#' + randomBytes(3).toString('hex').toUpperCase();
}

/** Container names: 3-100 chars `[A-Za-z0-9_-]` [R:7740]. */
export const CONTAINER_NAME_RE = /^[A-Za-z0-9_-]{3,100}$/;

export function randomContainerName(): string {
  return `container-${randomBytes(3).toString('hex')}`;
}
