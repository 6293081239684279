/**
 * daemon kit routes (`/api/v1/daemon/*`, [S:5560-5653]). Failures are `{success:false, error}`
 * [S:5360]; boolean query parameters accept only `true|false` [S:5344].
 */
import type { Route } from '../../router.js';
import type { SimCore } from '../../state.js';
import { sendJson } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import { checkSpec, DaemonState, type Proc, type Program, type Quick } from './state.js';

type Req = KitRequest<DaemonState>;
const D = '/api/v1/daemon';

/** Strict boolean query parameter. */
function flag(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v !== 'true' && v !== 'false') throw new KitError(400, `Invalid boolean value for ${name}: must be true or false`);
  return v === 'true';
}

function logQuery(q: URLSearchParams): { type: 'stdout' | 'stderr'; lines: number } {
  const type = q.get('type') ?? 'stdout';
  if (type !== 'stdout' && type !== 'stderr') throw new KitError(400, 'type must be stdout or stderr');
  const raw = q.get('lines') ?? '100';
  const lines = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(lines >= 1 && lines <= 10_000)) throw new KitError(400, 'lines must be 1-10000');
  return { type, lines };
}

function procStatus(p: Proc | undefined): Record<string, unknown> {
  if (!p) return { status: 'stopped' };
  const running = p.status === 'running';
  return {
    status: p.status,
    ...(running ? { pid: p.pid, uptime: Math.round((Date.now() - (p.startedAt ?? Date.now())) / 1000) } : {}),
    ...(p.exitCode !== undefined && !running ? { exit_code: p.exitCode } : {}),
  };
}

function programJson(s: DaemonState, p: Program, withStatus: boolean): Record<string, unknown> {
  const { id, name, command, user, enabled, boot, autorestart, directory, environment, description } = p;
  return { id, name, command, user, enabled, boot, autorestart, directory, environment, description, ...(withStatus ? { status: { id, ...procStatus(s.procs.get(id)) } } : {}) };
}

function quickJson(q: Quick): Record<string, unknown> {
  const { status, pid } = q.proc;
  return { temporary_id: q.id, name: q.proc.spec.name, command: q.proc.spec.command, status, pid, created_at: q.createdAt, expires_at: q.expiresAt };
}

/** Waits (bounded) until a process left `starting`. */
async function settled(req: Req, p: Proc, timeoutS: number): Promise<void> {
  const until = Date.now() + timeoutS * 1000;
  while (p.status === 'starting' && Date.now() < until) await req.core.wait(20);
}

function timeoutOf(b: Record<string, unknown>): number {
  const t = b.timeout ?? 30;
  if (typeof t !== 'number' || !(t >= 1 && t <= 300)) throw new KitError(400, 'timeout must be 1-300 seconds');
  return t;
}

const quickRoutes: Route<Req>[] = [
  {
    method: 'POST', pattern: `${D}/quick-start`,
    handler: async (req) => {
      const b = await req.json();
      const spec = checkSpec(b, false);
      const ttl = b.ttl;
      if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 86_400)) throw new KitError(400, 'ttl must be 1-86400 seconds');
      const q = req.state.launchQuick(spec, ttl as number | undefined);
      if (b.wait === true) await settled(req, q.proc, timeoutOf(b));
      sendJson(req.res, 200, { success: true, ...quickJson(q) });
    },
  },
  {
    method: 'GET', pattern: `${D}/quick-start`,
    handler: (req) => {
      const list = [...req.state.quick.values()].map(quickJson);
      sendJson(req.res, 200, { success: true, count: list.length, ephemeral_programs: list });
    },
  },
  {
    method: 'GET', pattern: `${D}/quick-start/:id/status`,
    handler: (req, p) => sendJson(req.res, 200, { success: true, ...quickJson(req.state.quickById(p.id!)), ...procStatus(req.state.quickById(p.id!).proc) }),
  },
  {
    method: 'GET', pattern: `${D}/quick-start/:id/logs`,
    handler: async (req, p) => {
      const q = req.state.quickById(p.id!);
      const { type, lines } = logQuery(req.query);
      const logs = await req.state.tail(q.proc.spec.name, type, lines);
      sendJson(req.res, 200, { success: true, logs, type, lines, log_file: req.state.logFile(q.proc.spec.name, type) });
    },
  },
  {
    method: 'POST', pattern: `${D}/quick-start/:id/stop`,
    handler: (req, p) => {
      const q = req.state.quickById(p.id!);
      req.state.stopQuick(q);
      sendJson(req.res, 200, { success: true, temporary_id: q.id, cleaned_up: true, message: `Ephemeral program ${q.id} stopped and cleaned up` });
    },
  },
];

const programRoutes: Route<Req>[] = [
  {
    method: 'GET', pattern: `${D}/programs`,
    handler: async (req) => {
      await req.state.loaded;
      const withStatus = (flag(req.query, 'include_status') ?? false) || (flag(req.query, 'include_stats') ?? false);
      const enabled = flag(req.query, 'enabled');
      const list = [...req.state.programs.values()].filter((p) => enabled === undefined || p.enabled === enabled);
      sendJson(req.res, 200, { success: true, count: list.length, programs: list.map((p) => programJson(req.state, p, withStatus)) });
    },
  },
  {
    method: 'POST', pattern: `${D}/programs/add`,
    handler: async (req) => {
      await req.state.loaded;
      const b = await req.json();
      const p = req.state.addProgram(checkSpec(b, true), b);
      await req.state.save();
      sendJson(req.res, 200, { success: true, id: p.id, program: programJson(req.state, p, false) });
    },
  },
  {
    method: 'GET', pattern: `${D}/programs/:id`,
    handler: async (req, p) => {
      await req.state.loaded;
      sendJson(req.res, 200, { success: true, program: programJson(req.state, req.state.program(p.id!), true) });
    },
  },
  {
    method: 'POST', pattern: `${D}/programs/:id/start`,
    handler: async (req, params) => {
      await req.state.loaded;
      const p = req.state.program(params.id!);
      const b = await req.json();
      if (!p.enabled) return sendJson(req.res, 400, { success: false, error: `Program with ID ${p.id} is disabled` });
      const before = req.state.procs.get(p.id);
      const already = before?.status === 'running';
      if (already && b.if_not_running === true) return sendJson(req.res, 200, { success: true, id: p.id, already_running: true, instance: null });
      if (already) return sendJson(req.res, 400, { success: false, error: `Program ${p.name} is already running` });
      const proc = req.state.startProgram(p);
      if (b.wait === true) await settled(req, proc, timeoutOf(b));
      sendJson(req.res, 200, { success: true, id: p.id, status: proc.status, already_running: false, instance: null });
    },
  },
  {
    method: 'POST', pattern: `${D}/programs/:id/stop`,
    handler: async (req, params) => {
      await req.state.loaded;
      const p = req.state.program(params.id!);
      const proc = req.state.procs.get(p.id);
      if (proc) req.state.kill(proc);
      sendJson(req.res, 200, { success: true, id: p.id, status: 'stopped' });
    },
  },
  ...(['enable', 'disable'] as const).map((op) => ({
    method: 'POST', pattern: `${D}/programs/:id/${op}`,
    handler: async (req: Req, params: Record<string, string>) => {
      await req.state.loaded;
      const p = req.state.program(params.id!);
      p.enabled = op === 'enable';
      await req.state.save();
      sendJson(req.res, 200, { success: true, id: p.id, enabled: p.enabled });
    },
  })),
  {
    method: 'POST', pattern: `${D}/programs/remove/:id`,
    handler: async (req, params) => {
      await req.state.loaded;
      const p = req.state.program(params.id!);
      const proc = req.state.procs.get(p.id);
      if (proc) req.state.kill(proc);
      req.state.procs.delete(p.id);
      req.state.programs.delete(p.id);
      await req.state.save();
      sendJson(req.res, 200, { success: true, message: `Program ${p.name} removed` });
    },
  },
  {
    method: 'GET', pattern: `${D}/programs/:id/logs`,
    handler: async (req, params) => {
      await req.state.loaded;
      const p = req.state.program(params.id!);
      const { type, lines } = logQuery(req.query);
      sendJson(req.res, 200, { success: true, logs: await req.state.tail(p.name, type, lines), type, lines, log_file: req.state.logFile(p.name, type) });
    },
  },
  {
    method: 'GET', pattern: `${D}/status/:id`,
    handler: async (req, params) => {
      await req.state.loaded;
      flag(req.query, 'include_stats');
      const p = req.state.program(params.id!);
      sendJson(req.res, 200, { success: true, status: { id: p.id, name: p.name, ...procStatus(req.state.procs.get(p.id)) } });
    },
  },
  {
    method: 'GET', pattern: `${D}/status`,
    handler: async (req) => {
      await req.state.loaded;
      const statuses = [...req.state.programs.values()].map((p) => ({ id: p.id, name: p.name, ...procStatus(req.state.procs.get(p.id)) }));
      sendJson(req.res, 200, { success: true, statuses });
    },
  },
];

export const createDaemonKit = (core: SimCore) =>
  createKit(core, {
    slug: 'daemon',
    service: 'hoody-daemon',
    state: (c) => new DaemonState(core, c),
    routes: [...quickRoutes, ...programRoutes],
    errors: {
      body: (e: KitError) => ({ success: false, error: e.message }),
      badJson: () => new KitError(400, 'Invalid JSON body'),
    },
  });
