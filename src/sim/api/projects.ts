/** Projects and server rentals (seed-api.md §2, §3.13). */
import type { Route } from '../router.js';
import type { ProjectRec, RentalRec } from '../records.js';
import { randomColor } from '../state.js';
import { HEX24, isoNow, newId, str } from '../util.js';
import { ApiError, body, findProject, inRealm, ok, paginate, requireHexId, sortBy, user, type ApiContext } from './context.js';

export function projectJson(p: ProjectRec): Record<string, unknown> {
  return { id: p.id, user_id: p.user_id, alias: p.alias, color: p.color, max_containers: p.max_containers, realm_ids: p.realm_ids, created_at: p.created_at, updated_at: p.updated_at };
}

function normColor(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).replace(/^#?/, '#').toUpperCase();
  if (!/^#([0-9A-F]{3}|[0-9A-F]{6})$/.test(s)) throw new ApiError(400, 'Invalid color format');
  return s;
}

function checkAlias(ctx: ApiContext, alias: string | undefined, except?: string): string {
  if (alias === undefined || alias.length < 1 || alias.length > 100) throw new ApiError(400, 'alias is required (1-100 characters)');
  const u = user(ctx);
  if ([...ctx.core.projects.values()].some((p) => p.user_id === u.id && p.alias === alias && p.id !== except)) {
    // 400 DUPLICATE_ALIAS per the projects page [R:11432-11441] (⚠ [S:2194] says 409).
    throw new ApiError(400, 'Project alias already exists');
  }
  return alias;
}

function realmList(ctx: ApiContext, v: unknown): string[] {
  const list = Array.isArray(v) ? v : [];
  if (!list.every((r): r is string => typeof r === 'string' && HEX24.test(r))) throw new ApiError(400, 'Invalid realm ID format');
  // Creating from a realm subdomain auto-merges that realm [S:2414].
  return [...new Set([...list, ...(ctx.realm ? [ctx.realm] : [])])];
}

function list(ctx: ApiContext): void {
  const u = user(ctx);
  const mine = [...ctx.core.projects.values()].filter((p) => p.user_id === u.id && inRealm(ctx, p.realm_ids));
  const sorted = sortBy(mine, ctx.query, ['id', 'alias', 'created_at', 'updated_at'], 'created_at');
  const { page, pagination } = paginate(sorted, ctx.query, 10); // default 10 [R:11270]
  ok(ctx, 200, 'Projects retrieved successfully', { projects: page.map(projectJson), pagination });
}

async function create(ctx: ApiContext): Promise<void> {
  const b = await body(ctx);
  const now = isoNow();
  const p: ProjectRec = {
    id: newId(), user_id: user(ctx).id, alias: checkAlias(ctx, str(b.alias)), color: normColor(b.color) ?? randomColor(),
    max_containers: typeof b.max_containers === 'number' ? b.max_containers : null, realm_ids: realmList(ctx, b.realm_ids),
    created_at: now, updated_at: now,
  };
  ctx.core.projects.set(p.id, p);
  ok(ctx, 201, 'Project created successfully', projectJson(p));
}

function get(ctx: ApiContext, id: string): void {
  ok(ctx, 200, 'Project retrieved successfully', projectJson(findProject(ctx, id)));
}

/** PUT ([S]) and PATCH ([R]) both accepted; `alias` is required even for a colour change [S:2663]. */
async function update(ctx: ApiContext, id: string): Promise<void> {
  const p = findProject(ctx, id);
  const b = await body(ctx);
  p.alias = checkAlias(ctx, str(b.alias), p.id);
  const color = normColor(b.color);
  if (color) p.color = color;
  if (b.realm_ids !== undefined) p.realm_ids = realmList(ctx, b.realm_ids);
  p.updated_at = isoNow();
  ok(ctx, 200, 'Project updated successfully', projectJson(p));
}

/**
 * Stopped containers cascade; active ones block with 422 PROJECT_HAS_CONTAINERS [R:11674]
 * (reconciliation of [R:11697-11716], seed-api §2).
 */
function remove(ctx: ApiContext, id: string): void {
  const p = findProject(ctx, id);
  const inside = [...ctx.core.containers.values()].filter((c) => c.project_id === p.id && c.status !== 'deleting');
  if (inside.some((c) => c.status !== 'stopped' && c.status !== 'failed')) {
    throw new ApiError(422, 'Project still contains active containers; delete the containers first');
  }
  for (const c of inside) {
    ctx.core.stopProcesses(c.id);
    ctx.core.containers.delete(c.id);
  }
  ctx.core.projects.delete(p.id);
  const data: Record<string, unknown> = { deleted: { containers: inside.length, permissions: 0, aliases: 0 } };
  if (ctx.query.get('include_deleted_items') === 'true') data.deleted_items = { containers: inside.map((c) => ({ id: c.id, name: c.name })) };
  ok(ctx, 200, 'Project deleted successfully', data);
}

export function rentalJson(r: RentalRec, expanded: boolean): Record<string, unknown> {
  return {
    id: r.id, rental_start: r.rental_start, rental_end: r.rental_end, status: r.status, amount: r.amount,
    remaining_days: r.remaining_days, server_id: r.server_id, pool_id: r.pool_id,
    server: expanded
      ? { id: r.server_id, name: r.server_name, region: 'sim-local', country: 'ZZ', city: 'Localhost', specs: { cpu: 4, ram_gb: 8, disk_gb: 80 } }
      : { id: r.server_id },
  };
}

/** `GET /rentals` → bare array; `server_id` ≠ rental `id` [R:16456-16477]. `/servers` is an alias. */
function rentals(ctx: ApiContext, expanded: boolean): void {
  const u = user(ctx);
  ok(ctx, 200, 'Rentals retrieved successfully', [...ctx.core.rentals.values()].filter((r) => r.user_id === u.id).map((r) => rentalJson(r, expanded)));
}

/** `/servers/{id}` takes a RENTAL id [R:16788]. */
function rental(ctx: ApiContext, id: string, expanded: boolean): void {
  requireHexId(id);
  const r = ctx.core.rentals.get(id);
  if (!r || r.user_id !== user(ctx).id) throw new ApiError(404, 'Rental not found');
  ok(ctx, 200, 'Rental retrieved successfully', rentalJson(r, expanded));
}

export const projectRoutes: Route<ApiContext>[] = [
  { method: 'GET', pattern: '/api/v1/projects/', handler: list },
  { method: 'POST', pattern: '/api/v1/projects/', handler: create },
  { method: 'GET', pattern: '/api/v1/projects/:id', handler: (ctx, p) => get(ctx, p.id as string) },
  { method: ['PUT', 'PATCH'], pattern: '/api/v1/projects/:id', handler: (ctx, p) => update(ctx, p.id as string) },
  { method: 'DELETE', pattern: '/api/v1/projects/:id', handler: (ctx, p) => remove(ctx, p.id as string) },
  { method: 'GET', pattern: '/api/v1/rentals', handler: (ctx) => rentals(ctx, false) },
  { method: 'GET', pattern: '/api/v1/servers', handler: (ctx) => rentals(ctx, true) },
  { method: 'GET', pattern: '/api/v1/rentals/:id', handler: (ctx, p) => rental(ctx, p.id as string, false) },
  { method: 'GET', pattern: '/api/v1/servers/:id', handler: (ctx, p) => rental(ctx, p.id as string, true) },
];
