/** Authentication, auth tokens and the public-key endpoint (seed-api.md §1, §4). */
import { randomBytes } from 'node:crypto';
import type { Route } from '../router.js';
import type { TokenRec, UserRec } from '../records.js';
import { randomAlias } from '../state.js';
import { HEX24, isoNow, newId, str } from '../util.js';
import { ApiError, body, findContainer, ok, requireHexId, user, type ApiContext } from './context.js';

const ACCESS_TTL_S = 86_400; // 1 d [S:434]
const REFRESH_TTL_S = 604_800; // 7 d

export function userJson(u: UserRec): Record<string, unknown> {
  return {
    id: u.id, username: u.username, alias: u.alias, email: u.email, is_admin: false, is_banned: false,
    metadata: {}, created_at: u.created_at, updated_at: u.updated_at,
  };
}

/** Token metadata; the secret is only ever returned at creation [S:516]. */
export function tokenJson(t: TokenRec, withSecret = false): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id, alias: t.alias, prefix: 'hdy_', public_key: t.public_key, public_storage: t.public_storage,
    ip_whitelist: t.ip_whitelist, realm_ids: t.realm_ids, allow_no_realm: t.allow_no_realm, permissions: t.permissions,
    expires_at: t.expires_at, is_enabled: t.is_enabled, vault_access: t.vault_access, event_access: t.event_access,
    last_used_at: t.last_used_at, last_used_ip: t.last_used_ip, created_at: t.created_at, updated_at: t.updated_at,
  };
  return withSecret ? { token: t.token, ...out } : out;
}

function tokenPair(ctx: ApiContext, u: UserRec): Record<string, unknown> {
  const access = ctx.core.issueJwt(u.id, 'access', ACCESS_TTL_S);
  const refresh = ctx.core.issueJwt(u.id, 'refresh', REFRESH_TTL_S);
  return {
    token: access.token, // `data.token`, not accessToken [S:457]
    refreshToken: refresh.token,
    expires_at: new Date(access.exp * 1000).toISOString(),
    expires_in: ACCESS_TTL_S,
    refresh_expires_at: new Date(refresh.exp * 1000).toISOString(),
    refresh_expires_in: REFRESH_TTL_S,
  };
}

async function login(ctx: ApiContext): Promise<void> {
  const b = await body(ctx);
  const username = str(b.username);
  const email = str(b.email);
  const password = str(b.password);
  if ((!username && !email) || !password) throw new ApiError(400, 'Username or email, and password are required'); // [S:2190]
  // Usernames are case-sensitive, emails lower-cased [S:2172].
  const u = [...ctx.core.users.values()].find((x) => (username ? x.username === username : x.email === email?.toLowerCase()));
  if (!u || u.password !== password) throw new ApiError(401, 'Invalid credentials');
  const authTokenCount = [...ctx.core.tokens.values()].filter((t) => t.user_id === u.id).length;
  ok(ctx, 200, 'Login successful', {
    ...tokenPair(ctx, u),
    client_ip: ctx.req.socket.remoteAddress ?? '127.0.0.1',
    recent_login_ips: [],
    auth_token_count: authTokenCount,
    user: userJson(u),
  });
}

/** The refresh token must be in BOTH the body and a matching Bearer header [S:527]. */
async function refresh(ctx: ApiContext): Promise<void> {
  const b = await body(ctx);
  const inBody = str(b.refreshToken);
  const m = /^Bearer ([^\s]+)$/.exec(ctx.req.headers.authorization ?? '');
  const u = inBody ? ctx.core.verifyJwt(inBody, 'refresh') : undefined;
  if (!inBody || !m || m[1] !== inBody || !u) throw new ApiError(401, 'Invalid or expired refresh token');
  ok(ctx, 200, 'Token refreshed successfully', tokenPair(ctx, u));
}

function me(ctx: ApiContext): void {
  const u = user(ctx);
  const data: Record<string, unknown> = { ...userJson(u), email_verified: true, pending_pool_invitations: [] };
  // "When authenticated with an auth token, the response includes data.auth_token" [R:3071].
  if (ctx.auth?.token) data.auth_token = tokenJson(ctx.auth.token);
  ok(ctx, 200, 'User retrieved successfully', data);
}

/** Logout-all for JWTs: bumps tokens_revoked_at [S:2173]. Auth tokens are unaffected. */
function logout(ctx: ApiContext): void {
  user(ctx).tokensRevokedAt = Date.now() + 1;
  ok(ctx, 200, 'Logout successful');
}

function listTokens(ctx: ApiContext): void {
  const u = user(ctx);
  // Bare array, no secret, no pagination [R:1445-1486].
  ok(ctx, 200, 'Auth tokens retrieved successfully', [...ctx.core.tokens.values()].filter((t) => t.user_id === u.id).map((t) => tokenJson(t)));
}

const ALIAS_RE = /^[A-Za-z0-9 _-]{1,100}$/;

async function createToken(ctx: ApiContext): Promise<void> {
  const u = user(ctx);
  const b = await body(ctx);
  const alias = b.alias === undefined ? randomAlias() : str(b.alias);
  if (alias === undefined || !ALIAS_RE.test(alias)) throw new ApiError(400, 'Invalid alias format');
  if ([...ctx.core.tokens.values()].some((t) => t.user_id === u.id && t.alias === alias)) {
    throw new ApiError(409, 'Token alias already exists'); // DUPLICATE_ALIAS [R:1830-1873]
  }
  const realmIds = Array.isArray(b.realm_ids) ? b.realm_ids : [];
  if (!realmIds.every((r): r is string => typeof r === 'string' && HEX24.test(r))) throw new ApiError(400, 'Invalid realm ID format');
  let expires: string | null = null;
  if (b.expires_at !== undefined && b.expires_at !== null) {
    const raw = b.expires_at;
    const ms = typeof raw === 'number' ? (raw > 1e12 ? raw : raw * 1000) : Date.parse(String(raw));
    if (!Number.isFinite(ms)) throw new ApiError(400, 'Invalid expiration format');
    if (ms <= Date.now()) throw new ApiError(400, 'Expiration date must be in the future');
    expires = new Date(ms).toISOString();
  }
  const now = isoNow();
  const t: TokenRec = {
    id: newId(), token: ctx.core.newAuthTokenSecret(), user_id: u.id, alias,
    ip_whitelist: Array.isArray(b.ip_whitelist) ? b.ip_whitelist.map(String) : ['*'],
    realm_ids: realmIds, allow_no_realm: b.allow_no_realm !== false,
    permissions: typeof b.permissions === 'object' && b.permissions !== null ? (b.permissions as Record<string, unknown>) : { containers: { read: true, create: true } },
    public_key: null, public_storage: null, expires_at: expires, is_enabled: true,
    vault_access: b.vault_access === true, event_access: b.event_access !== false,
    last_used_at: null, last_used_ip: null, created_at: now, updated_at: now,
  };
  ctx.core.tokens.set(t.id, t);
  ok(ctx, 201, 'Auth token created successfully', tokenJson(t, true));
}

function tokensMe(ctx: ApiContext): void {
  const t = ctx.auth?.token;
  // Behaviour with a JWT is undocumented [seed-api §1.6]; the simulator refuses it.
  if (!t) throw new ApiError(400, 'This endpoint requires an auth token (hdy_…)');
  ok(ctx, 200, 'Auth token retrieved successfully', {
    token: tokenJson(t),
    restrictions: {
      has_realm_restrictions: t.realm_ids.length > 0,
      requires_realm_scope: t.realm_ids.length > 0 && !t.allow_no_realm,
      allowed_realm_ids: t.realm_ids,
      allow_no_realm: t.allow_no_realm,
      active_realm_id: ctx.realm ?? null,
    },
  });
}

function ownToken(ctx: ApiContext, id: string): TokenRec {
  requireHexId(id);
  const t = ctx.core.tokens.get(id);
  if (!t || t.user_id !== user(ctx).id) throw new ApiError(404, 'Auth token not found');
  return t;
}

function getToken(ctx: ApiContext, id: string): void {
  ok(ctx, 200, 'Auth token retrieved successfully', tokenJson(ownToken(ctx, id)));
}

function deleteToken(ctx: ApiContext, id: string): void {
  const t = ownToken(ctx, id);
  ctx.core.tokens.delete(t.id);
  ok(ctx, 200, 'Auth token deleted successfully'); // no data [R:2459-2462]
}

/** No signing key on this deployment: the 503 of [S:473], body as [R:2621-2627]. */
function requireSigning(ctx: ApiContext): void {
  if (!ctx.core.opts.signing) throw new ApiError(503, 'Response signing is not configured on this API instance', 'SIGNING_NOT_CONFIGURED');
}

/** `GET /api/v1/meta/public-key` (no auth) [R:2573-2627]. */
function publicKey(ctx: ApiContext): void {
  requireSigning(ctx);
  const key = ctx.core.signer.publicKeyInfo();
  ok(ctx, 200, 'Public key retrieved successfully', {
    keys: [key],
    active_kid: key.kid,
    usage: ['response-signing', 'identity-claims', 'container-claims'],
    signing_format: {
      response_header: 'X-Hoody-Signature: t=<unix_ts>,kid=<key_id>,path=<request_url>,sig=<hex>',
      response_signed_data: '<t_value>.<response_body_utf8_string>',
      container_claim_signed_data: 'base64url(JSON.stringify(container_claim_payload)) — the b64url string itself (UTF-8 bytes)',
      replay_tolerance_seconds: 300,
    },
  });
}

/** `POST /api/v1/containers/{id}/authorize` — mint a container claim [R:7619-7715]. */
function authorize(ctx: ApiContext, id: string): void {
  const c = findContainer(ctx, id);
  requireSigning(ctx);
  const rule = ctx.core.claimRules.get(ctx.auth?.bearer ?? '') ?? ctx.core.claimRules.get('*');
  const ttl = ctx.core.opts.claimTtlS;
  const iat = Math.floor(Date.now() / 1000);
  const claim = (rule?.forge ? ctx.core.forger : ctx.core.signer).mint({ claim_type: 'container', container_id: c.id, project_id: c.project_id, sub: user(ctx).id, iat, exp: iat + ttl, jti: randomBytes(8).toString('hex') });
  const minted = ctx.core.mintedClaims;
  minted.set(claim.payload_b64, ctx.auth?.bearer ?? '');
  if (minted.size > 1000) minted.delete(minted.keys().next().value!);
  ok(ctx, 200, 'Container authorization claim issued', { container_claim: claim, expires_in: ttl, container_id: c.id, project_id: c.project_id });
}

function regions(ctx: ApiContext): void {
  // Single-wrapped `data.regions` [S:57], [S:2174].
  ok(ctx, 200, 'Available regions retrieved successfully', { regions: [{ region: 'sim-local', country: 'ZZ', city: 'Localhost', available: true }] });
}

/** Routes reachable without a credential. */
export const publicRoutes: Route<ApiContext>[] = [
  { method: 'POST', pattern: '/api/v1/users/auth/login', handler: login },
  { method: 'POST', pattern: '/api/v1/users/auth/refresh', handler: refresh },
  { method: 'GET', pattern: '/api/v1/meta/public-key', handler: publicKey },
  { method: 'GET', pattern: '/api/v1/auth/available-regions', handler: regions },
];

export const authRoutes: Route<ApiContext>[] = [
  { method: 'GET', pattern: '/api/v1/users/auth/me', handler: me },
  { method: 'POST', pattern: '/api/v1/users/auth/logout', handler: logout },
  { method: 'GET', pattern: '/api/v1/auth/tokens', handler: listTokens },
  { method: 'POST', pattern: '/api/v1/auth/tokens', handler: createToken },
  { method: 'GET', pattern: '/api/v1/auth/tokens/me', handler: tokensMe },
  { method: 'GET', pattern: '/api/v1/auth/tokens/:id', handler: (ctx, p) => getToken(ctx, p.id as string) },
  { method: 'DELETE', pattern: '/api/v1/auth/tokens/:id', handler: (ctx, p) => deleteToken(ctx, p.id as string) },
  { method: 'POST', pattern: '/api/v1/containers/:id/authorize', handler: (ctx, p) => authorize(ctx, p.id as string) },
];
