/**
 * Snapshots (seed-api.md §3.11): a snapshot is a copy of the container's sandbox directory.
 * Create answers 200 (not 201); restore (PUT [S] or PATCH [R]) "rewinds FS, kills procs" [S:776].
 */
import { cp, lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Route } from '../router.js';
import type { ContainerRec, SnapshotRec } from '../records.js';
import { isoNow } from '../util.js';
import { ApiError, body, findContainer, ok, type ApiContext } from './context.js';

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await lstat(p)).size;
  }
  return total;
}

function snapName(c: ContainerRec): string {
  const d = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const base = `snap-${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  let name = base;
  // Several snapshots in one second: disambiguate (the seeds only show the base format).
  for (let i = 2; c.snapshots.some((s) => s.name === name); i++) name = `${base}-${i}`;
  return name;
}

function findSnap(c: ContainerRec, name: string): SnapshotRec {
  const s = c.snapshots.find((x) => x.name === name);
  if (!s) throw new ApiError(404, 'Container or snapshot not found');
  return s;
}

function list(ctx: ApiContext, id: string): void {
  const c = findContainer(ctx, id);
  ok(ctx, 200, 'Snapshots retrieved successfully', { container_id: c.id, project_id: c.project_id, snapshots: c.snapshots });
}

async function create(ctx: ApiContext, id: string): Promise<void> {
  const c = findContainer(ctx, id);
  const b = await body(ctx);
  if (c.status === 'creating' || c.status === 'deleting') throw new ApiError(400, `Cannot snapshot a container that is ${c.status}`);
  const alias = typeof b.alias === 'string' ? b.alias.slice(0, 100) : null;
  const expiryDays = typeof b.expiry === 'number' && b.expiry > 0 ? b.expiry : null;
  const name = snapName(c);
  const dir = ctx.core.snapshotDir(c.id, name);
  await cp(ctx.core.sandboxRoot(c.id), dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const snap: SnapshotRec = {
    name, alias, created_at: isoNow(), last_used_at: null,
    expires_at: expiryDays ? new Date(Date.now() + expiryDays * 86_400_000).toISOString() : null,
    stateful: false, size: await dirSize(dir),
  };
  c.snapshots.push(snap);
  ok(ctx, 200, 'Snapshot created successfully', { container_id: c.id, project_id: c.project_id, snapshot: snap });
}

async function restore(ctx: ApiContext, id: string, name: string): Promise<void> {
  const c = findContainer(ctx, id);
  const snap = findSnap(c, name);
  ctx.core.stopProcesses(c.id);
  const root = ctx.core.sandboxRoot(c.id);
  await rm(root, { recursive: true, force: true });
  await cp(ctx.core.snapshotDir(c.id, name), root, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  snap.last_used_at = isoNow();
  c.last_used_snapshot = snap.name;
  c.updated_at = isoNow();
  ok(ctx, 200, 'Container restored from snapshot successfully', { success: true, message: 'Container restored from snapshot successfully', snapshot: {} });
}

async function setAlias(ctx: ApiContext, id: string, name: string): Promise<void> {
  const c = findContainer(ctx, id);
  const snap = findSnap(c, name);
  const b = await body(ctx);
  if (!('alias' in b) || (b.alias !== null && typeof b.alias !== 'string')) throw new ApiError(400, "body must have required property 'alias'");
  snap.alias = b.alias === null ? null : String(b.alias).slice(0, 100);
  ok(ctx, 200, 'Snapshot alias updated successfully', { container_id: c.id, project_id: c.project_id, snapshot: snap });
}

async function remove(ctx: ApiContext, id: string, name: string): Promise<void> {
  const c = findContainer(ctx, id);
  findSnap(c, name);
  c.snapshots = c.snapshots.filter((s) => s.name !== name);
  await rm(ctx.core.snapshotDir(c.id, name), { recursive: true, force: true });
  ok(ctx, 200, 'Snapshot deleted successfully', { container_id: c.id, project_id: c.project_id, snapshot_name: name });
}

const P = (p: Record<string, string>, k: string): string => p[k] as string;

export const snapshotRoutes: Route<ApiContext>[] = [
  { method: 'GET', pattern: '/api/v1/containers/:id/snapshots', handler: (ctx, p) => list(ctx, P(p, 'id')) },
  { method: 'POST', pattern: '/api/v1/containers/:id/snapshots', handler: (ctx, p) => create(ctx, P(p, 'id')) },
  { method: ['PUT', 'PATCH'], pattern: '/api/v1/containers/:id/snapshots/:name/alias', handler: (ctx, p) => setAlias(ctx, P(p, 'id'), P(p, 'name')) },
  { method: ['PUT', 'PATCH'], pattern: '/api/v1/containers/:id/snapshots/:name', handler: (ctx, p) => restore(ctx, P(p, 'id'), P(p, 'name')) },
  { method: 'DELETE', pattern: '/api/v1/containers/:id/snapshots/:name', handler: (ctx, p) => remove(ctx, P(p, 'id'), P(p, 'name')) },
];
