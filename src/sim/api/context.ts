/**
 * Control-plane request context, envelope helpers and authentication (seed-api.md §1, §6.1).
 * Success: `{statusCode, message, data?}`; error: `{statusCode, error, message[, data]}` [S:53], [S:819-823].
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from '../router.js';
import type { ContainerRec, ProjectRec, TokenRec, UserRec } from '../records.js';
import type { SimCore } from '../state.js';
import { BadJson, BodyTooLarge, HEX24, readJsonObject, reason, sendJson } from '../util.js';

export interface AuthInfo {
  user: UserRec;
  kind: 'jwt' | 'token';
  /** The bearer string as sent. */
  bearer: string;
  token?: TokenRec;
}

export interface ApiContext {
  core: SimCore;
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  /** Realm from the `{realmId}.api.` host, else `?realm_id=` [S:492]. */
  realm?: string;
  auth?: AuthInfo;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly error?: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export function ok(ctx: ApiContext, status: number, message: string, data?: unknown): void {
  const body: Record<string, unknown> = { statusCode: status, message };
  if (data !== undefined) body.data = data;
  sendJson(ctx.res, status, body);
}

export function sendApiError(res: ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
  const body: Record<string, unknown> = { statusCode: e.status, error: e.error ?? reason(e.status), message: e.message };
  if (e.data !== undefined) body.data = e.data;
  sendJson(res, e.status, body, headers);
}

export async function body(ctx: ApiContext): Promise<Record<string, unknown>> {
  try {
    return await readJsonObject(ctx.req);
  } catch (e) {
    if (e instanceof BodyTooLarge) throw new ApiError(413, 'Request body is too large');
    if (e instanceof BadJson) throw new ApiError(400, `Body is not valid JSON: ${e.message}`);
    throw e;
  }
}

export function requireHexId(id: string): void {
  // [R:1554] INVALID_ID_FORMAT — "must be a 24-character hexadecimal string".
  if (!HEX24.test(id)) throw new ApiError(400, 'Invalid ID format: must be a 24-character hexadecimal string');
}

/**
 * `Authorization: Bearer <token>` exactly — one space, case-sensitive [S:440], [S:2191].
 * `hdy_` prefix → auth token; anything else → JWT; each rejects the other.
 */
export function authenticate(ctx: ApiContext): AuthInfo {
  const header = ctx.req.headers.authorization;
  if (!header) throw new ApiError(401, 'Authentication token required');
  const m = /^Bearer ([^\s]+)$/.exec(header);
  if (!m) throw new ApiError(401, 'Invalid authorization header: literal "Bearer " prefix required');
  const bearer = m[1] as string;
  let info: AuthInfo;
  if (bearer.startsWith('hdy_')) {
    const t = ctx.core.findTokenBySecret(bearer);
    if (!t || !t.is_enabled) throw new ApiError(401, 'Invalid authentication token');
    if (t.expires_at && Date.parse(t.expires_at) <= Date.now()) throw new ApiError(401, 'Authentication token expired');
    const user = ctx.core.users.get(t.user_id);
    if (!user) throw new ApiError(401, 'Invalid authentication token');
    t.last_used_at = new Date().toISOString();
    t.last_used_ip = ctx.req.socket.remoteAddress ?? null;
    info = { user, kind: 'token', bearer, token: t };
  } else {
    const user = ctx.core.verifyJwt(bearer, 'access');
    if (!user) throw new ApiError(401, 'Invalid or expired authentication token');
    info = { user, kind: 'jwt', bearer };
  }
  ctx.auth = info;
  return info;
}

/** Realm restrictions of an auth token [S:500], [S:2270-2271]. `/auth/tokens/me` is exempt [R:1584]. */
export function enforceRealm(ctx: ApiContext, info: AuthInfo): void {
  const t = info.token;
  if (!t || ctx.path.startsWith('/api/v1/auth/tokens/me')) return;
  if (t.realm_ids.length === 0) return;
  if (!ctx.realm) {
    if (!t.allow_no_realm) throw new ApiError(403, 'This token requires a realm-scoped URL');
  } else if (!t.realm_ids.includes(ctx.realm)) {
    throw new ApiError(403, 'This token is not allowed in this realm');
  }
}

export function user(ctx: ApiContext): UserRec {
  if (!ctx.auth) throw new ApiError(401, 'Authentication token required');
  return ctx.auth.user;
}

/** Off-realm ids resolve to 404 on a realm-scoped host [S:492]. */
export function inRealm(ctx: ApiContext, realmIds: string[]): boolean {
  return !ctx.realm || realmIds.includes(ctx.realm);
}

export function findProject(ctx: ApiContext, id: string): ProjectRec {
  requireHexId(id);
  const p = ctx.core.projects.get(id);
  if (!p || p.user_id !== user(ctx).id || !inRealm(ctx, p.realm_ids)) throw new ApiError(404, 'Project not found');
  return p;
}

export function findContainer(ctx: ApiContext, id: string): ContainerRec {
  requireHexId(id);
  const c = ctx.core.containers.get(id);
  if (!c || c.user_id !== user(ctx).id || !inRealm(ctx, c.realm_ids)) throw new ApiError(404, 'Container not found');
  return c;
}

export type ApiHandler = (ctx: ApiContext, params: Params) => Promise<void> | void;

/** Page-based pagination [S:827-835]: `limit` ≤ 100 [R:7078]. */
export function paginate<T>(items: T[], q: URLSearchParams, defLimit: number): { page: T[]; pagination: { total: number; page: number; limit: number; totalPages: number } } {
  const page = Math.max(1, Math.trunc(Number(q.get('page') ?? '1')) || 1);
  const limit = Math.min(100, Math.max(1, Math.trunc(Number(q.get('limit') ?? String(defLimit))) || defLimit));
  const total = items.length;
  return {
    page: items.slice((page - 1) * limit, page * limit),
    pagination: { total, page, limit, totalPages: Math.ceil(total / limit) },
  };
}

export function sortBy<T>(items: T[], q: URLSearchParams, allowed: readonly string[], def: string): T[] {
  const key = allowed.includes(q.get('sort_by') ?? '') ? (q.get('sort_by') as string) : def;
  const dir = (q.get('sort_order') ?? 'desc').toLowerCase() === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    const av = String((a as Record<string, unknown>)[key] ?? '');
    const bv = String((b as Record<string, unknown>)[key] ?? '');
    return av < bv ? -dir : av > bv ? dir : 0;
  });
}
