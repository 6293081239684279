import * as z from 'zod';
import type { Container } from '../src/core/control.js';
import { HoodyError } from '../src/core/errors.js';
import type { ToolContext } from '../src/mcp/define-tool.js';
import { fail, ok } from '../src/mcp/result.js';
import { ticks, waitStream } from '../src/mcp/wait.js';
import { inContainer, target, tool, waitDeadline, waitS, type Deps } from './common.js';
import { columns, fmtSeconds } from './format.js';

const row = (c: Container) => [c.id, c.name, c.status, c.project_alias ?? c.project_id, c.server_name];

function brief(c: Container) {
  return { id: c.id, name: c.name, status: c.status, project: c.project_id, server: c.server_name };
}

/** Links a person can open. Kit URLs are capabilities: only this tool shows them, on purpose. */
const LINKS: [string, string][] = [
  ['desktop', 'desktop-1'],
  ['terminal', 'terminal-1'],
  ['code', 'code-1'],
  ['files', 'files-1'],
  ['workspaces', 'workspaces-1'],
];

/**
 * A container wait of the core (`onTick` style) through the shell's wait helper: progress on each
 * status change, then the core's result — or, when the wait ran out first, the last state seen.
 */
async function settle<R extends { container: Container }>(
  ctx: Pick<ToolContext<Deps, unknown>, 'signal' | 'progress'>,
  wait: { waitS: number; since: number; said?: string; fallback: () => Promise<Container> },
  run: (until: number, signal: AbortSignal, onTick: (c: Container) => void) => Promise<R>,
): Promise<{ container: Container; result?: R }> {
  let said = wait.said;
  const { last } = await waitStream<{ container: Container; result?: R }>(ctx, {
    waitS: wait.waitS,
    since: wait.since,
    updates: (until, signal) => ticks((onTick) => run(until, signal, (c) => onTick({ container: c })).then((r) => ({ container: r.container, result: r }))),
    progress: ({ container: c }) => {
      const line = `${c.name}: ${c.status}`;
      return line === said ? undefined : (said = line);
    },
  });
  return last ?? { container: await wait.fallback() };
}

export const containerTools = [
  tool({
    name: 'project_list',
    title: 'List projects',
    description: 'List Hoody projects (id, name).',
    toolset: 'containers',
    kind: 'read',
    input: z.object({}),
    async handler(_args, { deps, signal }) {
      const projects = await deps.control.listProjects(signal);
      const list = projects.map((p) => ({ id: p.id, name: p.alias }));
      const text = list.length ? columns(list.map((p) => [p.id, p.name])) : 'no projects';
      return ok(text, { projects: list });
    },
  }),

  tool({
    name: 'container_list',
    title: 'List containers',
    description: 'List containers: id, name, status, project, server.',
    toolset: 'containers',
    kind: 'read',
    input: z.object({
      project: z.string().optional().describe('Project id'),
      status: z.string().optional().describe('Only this status, e.g. running'),
    }),
    async handler({ project, status }, { deps, signal }) {
      let list = await deps.control.listContainers({ project, signal });
      if (status) list = list.filter((c) => c.status === status);
      for (const c of list) deps.resolver.remember(c);
      const text = list.length ? columns(list.map(row)) : 'no containers';
      return ok(text, { containers: list.map(brief) });
    },
  }),

  tool({
    name: 'container_get',
    title: 'Container details',
    showsLinks: true,
    description: 'Details of one container, with links a person can open (desktop, terminal, code, files, workspaces). The links grant access: share them only with their owner.',
    toolset: 'containers',
    kind: 'read',
    scope: inContainer,
    input: z.object({}),
    async handler(_args, { deps, signal, scope: id }) {
      const c = await deps.container(id, signal);
      const links = Object.fromEntries(LINKS.map(([k, slug]) => [k, deps.resolver.urlFor(c, slug).href]));
      const facts = [
        `${c.name} (${c.id}) — ${c.status}`,
        `project ${c.project_alias ?? ''} ${c.project_id}`.replace(/\s+/g, ' '),
        `server ${c.server_name}${c.container_image ? ` · image ${c.container_image}` : ''}${c.dev_kit ? ' · dev_kit' : ''}`,
        ...(c.created_at ? [`created ${c.created_at}`] : []),
        ...Object.entries(links).map(([k, u]) => `${k}: ${u}`),
      ];
      return ok(facts.join('\n'), { ...brief(c), image: c.container_image ?? null, created_at: c.created_at ?? null, links });
    },
  }),

  tool({
    name: 'container_create',
    title: 'Create container',
    description: 'Create a container and wait until it runs and its kits answer (progress while waiting). Containers persist until deleted.',
    toolset: 'containers',
    kind: 'write',
    deadline: waitDeadline(45),
    input: z.object({
      project: z.string().optional().describe('Project id (default: the only project)'),
      name: z.string().regex(/^[A-Za-z0-9_-]{3,100}$/, '3-100 characters: letters, digits, _ or -').optional(),
      server_id: z.string().optional().describe('Server (default: first active rental)'),
      dev_kit: z.boolean().optional().describe('Install developer tools (cannot be changed later)'),
      wait_s: waitS(45),
    }),
    async handler(args, ctx) {
      const started = Date.now();
      const created = await ctx.deps.createContainer({ project: args.project, serverId: args.server_id, name: args.name, devKit: args.dev_kit }, ctx.signal);
      await ctx.progress(`${created.name}: ${created.status}`);
      const wait = { waitS: args.wait_s ?? 45, since: started, said: `${created.name}: ${created.status}`, fallback: async () => created };
      const { container: c, result } = await settle(ctx, wait, (until, signal, onTick) =>
        ctx.deps.waitReady(created.id, { deadline: until, signal, onTick }),
      );
      const took = fmtSeconds(Date.now() - started);
      const text = result?.ready
        ? `created ${c.name} (${c.id}), running, kits answering · ${took}`
        : `created ${c.name} (${c.id}), still ${c.status === 'running' ? 'starting its kits' : c.status} after ${took} — call container_get to check again`;
      return ok(text, { ...brief(c), ready: !!result?.ready });
    },
  }),

  tool({
    name: 'container_action',
    title: 'Start/stop container',
    description: 'start, stop, restart, pause, resume or force_stop a container; returns once the new status is reached.',
    toolset: 'containers',
    kind: 'write',
    scope: inContainer,
    idempotent: true,
    deadline: waitDeadline(45),
    input: z.object({
      action: z.enum(['start', 'stop', 'restart', 'pause', 'resume', 'force_stop']),
      wait_s: waitS(45),
    }),
    async handler({ action, wait_s }, ctx) {
      const started = Date.now();
      const op = action === 'force_stop' ? 'force-stop' : action;
      await ctx.progress(`${action}…`);
      const wait = { waitS: wait_s ?? 45, since: started, fallback: () => ctx.deps.control.getContainer(ctx.scope, ctx.signal) };
      const { container: c, result } = await settle(ctx, wait, (until, signal, onTick) =>
        ctx.deps.act(ctx.scope, op, { deadline: until, signal, onTick }),
      );
      const text = result?.already
        ? `${c.name} was already ${c.status}`
        : result?.reached
          ? `${c.name}: ${c.status} · ${fmtSeconds(Date.now() - started)}`
          : `${c.name}: ${c.status} (not yet settled after ${fmtSeconds(Date.now() - started)}) — call container_get to check`;
      return ok(text, { ...brief(c), reached: !!result?.reached });
    },
  }),

  tool({
    name: 'container_delete',
    title: 'Delete container',
    description: 'Delete a container and its snapshots. Irreversible.',
    toolset: 'containers',
    kind: 'destructive',
    scope: inContainer,
    confirm: (a) => `Delete ${target(a)} and its snapshots?`,
    input: z.object({}),
    async handler(_args, { deps, signal, scope: id }) {
      const c = await deps.deleteContainer(id, signal);
      return ok(`deleted ${c.name} (${c.id})`, { id: c.id, name: c.name, deleted: true });
    },
  }),

  tool({
    name: 'container_snapshot',
    title: 'Snapshots',
    description: 'List, create or restore container snapshots. Restore rewinds the filesystem and kills running processes.',
    toolset: 'containers',
    kind: 'destructive',
    actions: { arg: 'action', kinds: { list: 'read', create: 'write', restore: 'destructive' } },
    scope: inContainer,
    confirm: (a) => (a.action === 'restore' && a.snapshot ? `Restore ${target(a)} to snapshot ${a.snapshot}? Later changes are lost and running processes killed.` : undefined),
    input: z.object({
      action: z.enum(['list', 'create', 'restore']),
      snapshot: z.string().optional().describe('Snapshot name (restore)'),
      alias: z.string().max(100).optional().describe('Label for a new snapshot'),
    }),
    async handler({ action, snapshot, alias }, { deps, signal, scope: id }) {
      if (action === 'create') {
        const s = await deps.control.createSnapshot(id, alias, signal);
        return ok(`created snapshot ${s.name}${s.alias ? ` (${s.alias})` : ''}`, { snapshot: s });
      }
      if (action === 'restore') {
        if (!snapshot) return fail('restore needs `snapshot`', 'call with action "list" to see snapshot names');
        await deps.restoreSnapshot(id, snapshot, signal).catch((err) => {
          if (err instanceof HoodyError && err.kind === 'not_found') err.hint = 'call with action "list" to see snapshot names';
          throw err;
        });
        return ok(`restored snapshot ${snapshot}`, { restored: snapshot });
      }
      const list = await deps.control.listSnapshots(id, signal);
      const text = list.length ? columns(list.map((s) => [s.name, s.alias ?? '', s.created_at ?? ''])) : 'no snapshots';
      return ok(text, { snapshots: list.map((s) => ({ name: s.name, alias: s.alias ?? null, created_at: s.created_at ?? null })) });
    },
  }),
];
