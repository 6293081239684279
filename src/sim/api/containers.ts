/** Containers: list, create, get, update, delete, lifecycle, env, status logs, stats (seed-api.md §3). */
import { rm } from 'node:fs/promises';
import type { Route } from '../router.js';
import { createSandbox } from '../sandbox.js';
import type { ContainerRec } from '../records.js';
import { CONTAINER_NAME_RE, randomColor, randomContainerName, type SimCore } from '../state.js';
import type { ContainerStatus } from '../types.js';
import { HEX24, isoNow, newId, str } from '../util.js';
import { ApiError, body, findContainer, findProject, inRealm, ok, paginate, sortBy, user, type ApiContext } from './context.js';

export function containerJson(core: SimCore, c: ContainerRec): Record<string, unknown> {
  return {
    id: c.id, project_id: c.project_id, project_alias: core.projects.get(c.project_id)?.alias ?? null,
    server_id: c.server_id, server_name: c.server_name, subserver_name: c.subserver_name,
    name: c.name, color: c.color, container_image: c.container_image, ai: c.ai, hoody_kit: c.hoody_kit, dev_kit: c.dev_kit,
    autostart: c.autostart, ramdisk: c.ramdisk, prespawn: c.prespawn, is_default: c.is_default, status: c.status,
    environment_vars: c.environment_vars, volumes: {}, ssh_public_key: c.ssh_public_key, comment: c.comment,
    source_container_id: null, server_expired: false, server_expired_at: null, server_expired_reason: null,
    created_at: c.created_at, updated_at: c.updated_at, realm_ids: c.realm_ids, snapshot_count: c.snapshots.length,
    last_used_snapshot: c.last_used_snapshot, warnings: [], pool_id: null, proxy_domains: [],
  };
}

const ENV_KEY_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Keys `^[a-zA-Z_][a-zA-Z0-9_]*$`, values strings ≤ 65536, `HOODY_*` reserved [R:4442-4648]. */
function envMap(v: unknown, reservedCheck: boolean): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'environment variables must be an object of strings');
  const out: Record<string, string> = {};
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 200) throw new ApiError(400, 'At most 200 environment variables are allowed');
  for (const [k, val] of entries) {
    if (!ENV_KEY_RE.test(k)) throw new ApiError(400, `Invalid environment variable name: ${k}`);
    if (reservedCheck && k.toUpperCase().startsWith('HOODY_')) throw new ApiError(400, `Environment variable names starting with HOODY_ are reserved: ${k}`);
    if (typeof val !== 'string' || val.length > 65536) throw new ApiError(400, `Environment variable ${k} must be a string of at most 65536 characters`);
    out[k] = val;
  }
  return out;
}

function checkName(ctx: ApiContext, projectId: string, name: string, except?: string): void {
  if (!CONTAINER_NAME_RE.test(name)) {
    throw new ApiError(400, 'Invalid container name: 3-100 characters, letters, digits, "-" and "_" only'); // INVALID_CONTAINER_NAME
  }
  const clash = [...ctx.core.containers.values()].some((c) => c.project_id === projectId && c.name === name && c.id !== except && c.status !== 'deleting');
  if (clash) throw new ApiError(409, `Container name "${name}" is already in use in this project`); // CONTAINER_NAME_IN_USE
}

function checkSshKey(ctx: ApiContext, key: string | null, except?: string): void {
  if (!key) return;
  if ([...ctx.core.containers.values()].some((c) => c.ssh_public_key === key && c.id !== except)) {
    throw new ApiError(409, 'This SSH public key is already in use. SSH public keys must be unique per container.'); // [S:317]
  }
}

function listContainers(ctx: ApiContext, projectId?: string): void {
  const u = user(ctx);
  const includeDeleting = ctx.query.get('include_deleting') === 'true';
  const all = [...ctx.core.containers.values()].filter(
    (c) => c.user_id === u.id && inRealm(ctx, c.realm_ids) && (projectId === undefined || c.project_id === projectId) && (includeDeleting || c.status !== 'deleting'),
  );
  const sorted = sortBy(all, ctx.query, ['id', 'name', 'status', 'created_at', 'updated_at'], 'created_at');
  const { page, pagination } = paginate(sorted, ctx.query, 20);
  ok(ctx, 200, 'Containers retrieved successfully', { containers: page.map((c) => containerJson(ctx.core, c)), pagination });
}

async function createContainer(ctx: ApiContext, projectId: string): Promise<void> {
  const project = findProject(ctx, projectId);
  const u = user(ctx);
  const b = await body(ctx);
  const serverId = str(b.server_id);
  if (!serverId) throw new ApiError(400, 'body must have required property \'server_id\'', undefined, [{ instancePath: '/server_id', message: 'is required' }]);
  if (!HEX24.test(serverId)) throw new ApiError(400, 'Invalid ID format: server_id must be a 24-character hexadecimal string');
  // server_id is the rental's server_id, not the rental id [R:16456-16475].
  const rental = [...ctx.core.rentals.values()].find((r) => r.server_id === serverId && r.user_id === u.id && r.status === 'active');
  if (!rental) throw new ApiError(404, 'Server not found');
  const rawName = str(b.name);
  const name = rawName === undefined || rawName === 'rand' ? randomContainerName() : rawName;
  checkName(ctx, project.id, name);
  const sshKey = typeof b.ssh_public_key === 'string' ? b.ssh_public_key : null;
  checkSshKey(ctx, sshKey);
  const live = [...ctx.core.containers.values()].filter((c) => c.project_id === project.id && c.status !== 'deleting').length;
  if (project.max_containers !== null && live >= project.max_containers) throw new ApiError(422, 'Project container quota exceeded');
  const env = b.environment_vars === undefined ? {} : envMap(b.environment_vars, false);
  const realmIds = Array.isArray(b.realm_ids) ? b.realm_ids.filter((r): r is string => typeof r === 'string' && HEX24.test(r)) : [];
  const now = isoNow();
  const hoodyKit = b.hoody_kit !== false;
  const c: ContainerRec = {
    id: newId(), user_id: u.id, project_id: project.id, server_id: rental.server_id, server_name: rental.server_name,
    subserver_name: `${u.username}-slice-${Math.floor(Math.random() * 90 + 10)}`,
    name, color: typeof b.color === 'string' ? '#' + b.color.replace(/^#/, '').toUpperCase() : randomColor(),
    container_image: str(b.container_image) ?? 'ubuntu/24.04', ai: b.ai !== false, hoody_kit: hoodyKit,
    dev_kit: typeof b.dev_kit === 'boolean' ? b.dev_kit : hoodyKit, autostart: b.autostart !== false, ramdisk: b.ramdisk !== false,
    prespawn: false, is_default: false, status: 'creating', environment_vars: env, ssh_public_key: sshKey,
    comment: str(b.comment) ?? null, realm_ids: [...new Set([...realmIds, ...(ctx.realm ? [ctx.realm] : [])])],
    created_at: now, updated_at: now, snapshots: [], last_used_snapshot: null, statusLogs: [],
    kitsReadyAt: Number.MAX_SAFE_INTEGER, busy: false, statusSince: Date.now(),
  };
  await createSandbox(ctx.core.sandboxRoot(c.id));
  ctx.core.containers.set(c.id, c);
  scheduleProvisioning(ctx.core, c);
  ok(ctx, 201, 'Container created successfully', containerJson(ctx.core, c));
}

/** `creating` → `running` after provisionMs; kits then warm up for warmupMs [S:424]. */
export function scheduleProvisioning(core: SimCore, c: ContainerRec): void {
  core.later(core.opts.provisionMs, () => {
    if (core.containers.get(c.id) !== c || c.status !== 'creating') return;
    core.setStatus(c, 'running', 'system');
    core.warmUp(c);
  });
}

function getContainer(ctx: ApiContext, id: string): void {
  ok(ctx, 200, 'Container retrieved successfully', containerJson(ctx.core, findContainer(ctx, id)));
}

/** PUT [S:2369] / PATCH [R:7903]; create-only fields are ignored. */
async function updateContainer(ctx: ApiContext, id: string): Promise<void> {
  const c = findContainer(ctx, id);
  const b = await body(ctx);
  if (b.name !== undefined) {
    const name = str(b.name) ?? '';
    checkName(ctx, c.project_id, name, c.id);
    c.name = name;
  }
  if (typeof b.color === 'string') c.color = '#' + b.color.replace(/^#/, '').toUpperCase();
  if (typeof b.ai === 'boolean') c.ai = b.ai;
  if (typeof b.autostart === 'boolean') c.autostart = b.autostart;
  if (typeof b.ramdisk === 'boolean') c.ramdisk = b.ramdisk;
  if (b.environment_vars !== undefined) c.environment_vars = { ...c.environment_vars, ...envMap(b.environment_vars, false) };
  if (b.ssh_public_key !== undefined) {
    const key = typeof b.ssh_public_key === 'string' ? b.ssh_public_key : null;
    checkSshKey(ctx, key, c.id);
    c.ssh_public_key = key;
  }
  if (b.comment !== undefined) c.comment = str(b.comment) ?? null;
  if (Array.isArray(b.realm_ids)) c.realm_ids = b.realm_ids.filter((r): r is string => typeof r === 'string' && HEX24.test(r));
  c.updated_at = isoNow();
  ok(ctx, 200, 'Container updated successfully', containerJson(ctx.core, c));
}

/** Marked `deleting`, removed asynchronously; 200 with no `data` [R:8055-8160]. */
function deleteContainer(ctx: ApiContext, id: string): void {
  const c = findContainer(ctx, id);
  if (c.status === 'deleting' || c.busy) throw new ApiError(409, 'Container operation already in progress');
  ctx.core.stopProcesses(c.id);
  ctx.core.setStatus(c, 'deleting');
  const core = ctx.core;
  // Removal takes at least 250 ms so a client can observe `deleting` (the real one takes seconds).
  core.later(Math.max(250, core.opts.lifecycleMs), () => {
    core.containers.delete(c.id);
    void rm(core.sandboxRoot(c.id), { recursive: true, force: true });
    void rm(`${core.sandboxRoot(c.id)}.fstab`, { force: true });
    void rm(core.snapshotDir(c.id, ''), { recursive: true, force: true });
  });
  ok(ctx, 200, 'Container deleted successfully');
}

/* ------------------------------------------------------------------------------------------------ */
/* Lifecycle [R:6479-6590]: op is a path segment, no body; conflicts → 400 with a `data` block.      */
/* ------------------------------------------------------------------------------------------------ */

type Op = 'start' | 'stop' | 'force-stop' | 'restart' | 'pause' | 'resume';

interface OpRule {
  from: ContainerStatus[];
  to: ContainerStatus;
  done: string;
  /** Conflict message by current status. */
  conflict: (s: ContainerStatus) => string;
}

const notRunning = (s: ContainerStatus): string => (s === 'paused' ? 'Container is paused' : s === 'running' ? 'Container is already running' : `Container is ${s}`);

const OPS: Record<Op, OpRule> = {
  start: { from: ['stopped', 'failed'], to: 'running', done: 'Container started successfully', conflict: notRunning },
  stop: { from: ['running', 'paused'], to: 'stopped', done: 'Container stopped successfully', conflict: (s) => (s === 'stopped' ? 'Container is already stopped' : `Container is ${s}`) },
  'force-stop': { from: ['running', 'paused'], to: 'stopped', done: 'Container force-stopped successfully', conflict: (s) => (s === 'stopped' ? 'Container is already stopped' : `Container is ${s}`) },
  restart: { from: ['running'], to: 'running', done: 'Container restarted successfully', conflict: (s) => (s === 'stopped' ? 'Container is not running' : `Container is ${s}`) },
  pause: { from: ['running'], to: 'paused', done: 'Container paused successfully', conflict: (s) => (s === 'paused' ? 'Container is already paused' : 'Container is not running') },
  resume: { from: ['paused'], to: 'running', done: 'Container resumed successfully', conflict: (s) => (s === 'running' ? 'Container is already running' : 'Container is not paused') },
};

function opData(c: ContainerRec, op: Op, error: boolean, message: string): Record<string, unknown> {
  return { error, operation: op, container_id: c.id, project_id: c.project_id, message, status: c.status };
}

async function lifecycle(ctx: ApiContext, id: string, opName: string): Promise<void> {
  if (!(opName in OPS)) throw new ApiError(404, `Route POST:${ctx.path} not found`);
  const op = opName as Op;
  const rule = OPS[op];
  const c = findContainer(ctx, id);
  const core = ctx.core;
  if (c.busy || !rule.from.includes(c.status)) {
    const message = c.busy ? 'Another operation is in progress on this container' : rule.conflict(c.status);
    throw new ApiError(400, message, 'Bad Request', opData(c, op, true, message));
  }
  c.busy = true;
  // Kits stop answering while the operation runs; processes die at the start of a stop.
  if (op !== 'start' && op !== 'resume') c.kitsReadyAt = Number.MAX_SAFE_INTEGER;
  if (op === 'stop' || op === 'force-stop' || op === 'restart') core.stopProcesses(c.id);
  if (op === 'pause') core.pauseProcesses(c.id, true);
  const started = Date.now();
  await core.wait(core.opts.lifecycleMs);
  c.busy = false;
  if (core.containers.get(c.id) !== c || c.status === 'deleting') throw new ApiError(404, 'Container not found');
  core.setStatus(c, rule.to, 'user', { command: op, duration_ms: Date.now() - started });
  if (op === 'start' || op === 'restart') core.warmUp(c);
  if (op === 'resume') {
    core.pauseProcesses(c.id, false);
    c.kitsReadyAt = Date.now();
  }
  ok(ctx, 200, 'Container operation completed successfully', opData(c, op, false, rule.done));
}

/* ------------------------------------------------------------------------------------------------ */
/* Env (§3.12), status logs (§3.9), stats                                                             */
/* ------------------------------------------------------------------------------------------------ */

function getEnv(ctx: ApiContext, id: string): void {
  ok(ctx, 200, 'Environment variables retrieved successfully', { environment_vars: findContainer(ctx, id).environment_vars });
}

/** Merge semantics: "Keys not present in the body are left unchanged". */
async function putEnv(ctx: ApiContext, id: string): Promise<void> {
  const c = findContainer(ctx, id);
  const vars = envMap(await body(ctx), true);
  if (Object.keys(vars).length === 0) throw new ApiError(400, 'body must have at least 1 property');
  c.environment_vars = { ...c.environment_vars, ...vars };
  ok(ctx, 200, 'Environment variables updated successfully', { environment_vars: c.environment_vars, synced: true });
}

async function putEnvKey(ctx: ApiContext, id: string, key: string): Promise<void> {
  const c = findContainer(ctx, id);
  const b = await body(ctx);
  if (typeof b.value !== 'string') throw new ApiError(400, "body must have required property 'value'");
  const vars = envMap({ [key]: b.value }, true);
  c.environment_vars = { ...c.environment_vars, ...vars };
  ok(ctx, 200, 'Environment variable updated successfully', { environment_vars: vars, synced: true });
}

function deleteEnvKey(ctx: ApiContext, id: string, key: string): void {
  const c = findContainer(ctx, id);
  const rest = { ...c.environment_vars };
  delete rest[key];
  c.environment_vars = rest;
  ok(ctx, 200, 'Environment variable deleted successfully', { environment_vars: rest, synced: true });
}

function statusLogs(ctx: ApiContext, id: string): void {
  const c = findContainer(ctx, id);
  const sorted = sortBy(c.statusLogs, ctx.query, ['transition_time', 'created_at', 'to_status', 'from_status'], 'transition_time');
  const { page, pagination } = paginate(sorted, ctx.query, 10);
  ok(ctx, 200, 'Status logs retrieved successfully', { logs: page, pagination });
}

/** Incus-style stats: `status:"Running"`, `status_code:103` [R:7500-7501]. */
function stats(ctx: ApiContext, id: string): void {
  const c = findContainer(ctx, id);
  const incus: Record<string, [string, number]> = { running: ['Running', 103], stopped: ['Stopped', 102], paused: ['Frozen', 110] };
  const [status, code] = incus[c.status] ?? ['Pending', 105];
  ok(ctx, 200, 'Container stats retrieved successfully', {
    id: c.id, project_id: c.project_id, project_name: ctx.core.projects.get(c.project_id)?.alias ?? null,
    server_name: c.server_name, subserver_name: c.subserver_name, status, status_code: code, processes: 0,
    started_at: new Date(c.statusSince).toISOString(), cpu: { usage: 0, allocated_time: 0, usage_percent: 0 },
    memory: { usage: 0, total: 8 * 1024 ** 3, usage_percent: 0, swap_usage: 0, swap_usage_peak: 0, usage_peak: 0 },
    disk: { root: { total: 80 * 1024 ** 3, usage: 0 } }, network: [], processing_time: '1ms',
  });
}

const P = (p: Record<string, string>, k: string): string => p[k] as string;

export const containerRoutes: Route<ApiContext>[] = [
  { method: 'GET', pattern: '/api/v1/containers/', handler: (ctx) => listContainers(ctx) },
  { method: 'GET', pattern: '/api/v1/projects/:id/containers', handler: (ctx, p) => listContainers(ctx, findProject(ctx, P(p, 'id')).id) },
  { method: 'POST', pattern: '/api/v1/projects/:id/containers', handler: (ctx, p) => createContainer(ctx, P(p, 'id')) },
  { method: 'GET', pattern: '/api/v1/containers/:id', handler: (ctx, p) => getContainer(ctx, P(p, 'id')) },
  { method: ['PUT', 'PATCH'], pattern: '/api/v1/containers/:id', handler: (ctx, p) => updateContainer(ctx, P(p, 'id')) },
  { method: 'DELETE', pattern: '/api/v1/containers/:id', handler: (ctx, p) => deleteContainer(ctx, P(p, 'id')) },
  { method: 'GET', pattern: '/api/v1/containers/:id/env', handler: (ctx, p) => getEnv(ctx, P(p, 'id')) },
  { method: ['PUT', 'PATCH'], pattern: '/api/v1/containers/:id/env', handler: (ctx, p) => putEnv(ctx, P(p, 'id')) },
  { method: ['PUT', 'PATCH'], pattern: '/api/v1/containers/:id/env/:key', handler: (ctx, p) => putEnvKey(ctx, P(p, 'id'), P(p, 'key')) },
  { method: 'DELETE', pattern: '/api/v1/containers/:id/env/:key', handler: (ctx, p) => deleteEnvKey(ctx, P(p, 'id'), P(p, 'key')) },
  { method: 'GET', pattern: '/api/v1/containers/:id/status-logs', handler: (ctx, p) => statusLogs(ctx, P(p, 'id')) },
  { method: 'GET', pattern: '/api/v1/containers/:id/stats', handler: (ctx, p) => stats(ctx, P(p, 'id')) },
];

/** Registered last: `POST /containers/{id}/{op}` would otherwise shadow authorize/snapshots. */
export const lifecycleRoutes: Route<ApiContext>[] = [
  { method: 'POST', pattern: '/api/v1/containers/:id/:op', handler: (ctx, p) => lifecycle(ctx, P(p, 'id'), P(p, 'op')) },
];
