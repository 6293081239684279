import * as z from 'zod';
import type { Service } from '../src/core/kits/daemon.js';
import { isAlive, untilAnswers } from '../src/core/ports.js';
import { fail, ok, reply } from '../src/mcp/result.js';
import { waitStream } from '../src/mcp/wait.js';
import { inContainer, tool, waitDeadline, waitS } from './common.js';

const port = z.number().int().min(1).max(65_535);
const service = z.string().min(1).describe('Service id or name');
const line = (s: Service) => `${s.id}  ${s.name}  ${s.kind === 'program' ? 'program' : 'one-off'}  ${s.status}${s.pid ? ` pid ${s.pid}` : ''}${s.command ? `  $ ${s.command.length > 80 ? `${s.command.slice(0, 80)}…` : s.command}` : ''}`;

export const serviceTools = [
  tool({
    name: 'service_start',
    title: 'Start service',
    description:
      'Run a command as a background service (no TTY; output logged). restart=true: restarted on exit and at boot; else a one-off. With port: waits up to wait_s for it to answer HTTP, returns its public URL.',
    toolset: 'services',
    kind: 'write',
    scope: inContainer,
    deadline: waitDeadline(25),
    input: z.object({
      command: z.string().min(1).describe('One line'),
      name: z.string().optional(),
      user: z.string().optional(),
      cwd: z.string().optional(),
      env: z.record(z.string(), z.string()).optional(),
      port: port.optional().describe('Port it listens on'),
      restart: z.boolean().optional(),
      wait_s: waitS(25),
    }),
    async handler(args, ctx) {
      const { deps, scope: id, signal } = ctx;
      const since = Date.now();
      const s = await deps.daemon.start(id, { command: args.command, name: args.name, user: args.user, cwd: args.cwd, env: args.env, restart: args.restart }, signal);
      const head = `started ${s.kind === 'program' ? 'program' : 'one-off'} ${s.id} (${s.name})`;
      if (!args.port) return ok(`${head} — service_logs reads its output`, { service: s.id, name: s.name, status: s.status });
      const p = args.port;
      const { last } = await waitStream(ctx, {
        waitS: args.wait_s ?? 25,
        since,
        updates: (until, sig) => untilAnswers(deps.ports, (sg) => deps.daemon.status(id, s, sg), id, p, { until, signal: sig }),
        progress: (u) => (u.answers ? undefined : `waiting for port ${p} · service ${u.status}`),
      });
      const url = last?.url ?? (await deps.ports.url(id, p, false, signal));
      if (last?.answers) return ok(`${head}; port ${p} answers (HTTP ${last.httpStatus}) at ${url}`, { service: s.id, name: s.name, url, answers: true });
      const why = last && !isAlive(last.status) ? `the service is ${last.status}` : `port ${p} does not answer yet`;
      return reply()
        .text(`${head}; ${why} — service_logs shows its output, port_url checks again`)
        .text(`url (once it answers): ${url}`)
        .structured({ service: s.id, name: s.name, url, answers: false });
    },
  }),

  tool({
    name: 'service_list',
    title: 'List services',
    description: "The container's services: id, name, kind, state.",
    toolset: 'services',
    kind: 'read',
    scope: inContainer,
    input: z.object({}),
    async handler(_args, { deps, scope: id, signal }) {
      const all = await deps.daemon.list(id, signal);
      if (!all.length) return ok('no services — service_start starts one', { count: 0 });
      return reply().text(`${all.length} services (id  name  kind  state):`).text(all.map(line).join('\n'), true).structured({ count: all.length });
    },
  }),

  tool({
    name: 'service_logs',
    title: 'Service logs',
    description: "Last lines of a service's stdout and stderr (or one), also once exited.",
    toolset: 'services',
    kind: 'read',
    scope: inContainer,
    input: z.object({ service, stream: z.enum(['stdout', 'stderr']).optional(), tail: z.number().int().min(1).max(10_000).optional().describe('default 100') }),
    async handler(args, { deps, scope: id, signal }) {
      const streams = args.stream ? [args.stream] : (['stdout', 'stderr'] as const);
      const logs = await Promise.all(streams.map((st) => deps.daemon.logs(id, args.service, st, args.tail ?? 100, signal)));
      const out = reply();
      for (const l of logs) {
        const from = l.from === 'kit' ? '' : ' (service gone; saved log)';
        out.text(`${l.stream} of ${l.name}${from}:`).text(l.text || '(empty)', { head: 0.1, more: 'pass a smaller tail' });
      }
      return out.structured({ service: logs[0]!.service, streams: logs.map((l) => ({ stream: l.stream, chars: l.text.length })) });
    },
  }),

  tool({
    name: 'service_stop',
    title: 'Stop service',
    description: 'Stop a service; logs stay readable. remove: also delete a restart=true program.',
    toolset: 'services',
    kind: 'write',
    idempotent: true,
    scope: inContainer,
    input: z.object({ service, remove: z.boolean().optional() }),
    async handler(args, { deps, scope: id, signal }) {
      const s = await deps.daemon.find(id, args.service, signal);
      if (!s) return fail(`no running or registered service "${args.service}"`, 'service_list shows the services (a one-off that exited is already gone)');
      await deps.daemon.stop(id, s, args.remove ?? false, signal);
      return ok(`stopped ${s.id} (${s.name})${args.remove && s.kind === 'program' ? ', removed' : ''}`, { service: s.id, status: 'stopped' });
    },
  }),

  tool({
    name: 'port_url',
    title: 'Port URL',
    description: 'Public URL of a container port and whether something answers there (open it with browser_navigate). https: the service speaks TLS.',
    toolset: 'services',
    kind: 'read',
    scope: inContainer,
    input: z.object({ port, https: z.boolean().optional() }),
    async handler(args, { deps, scope: id, signal }) {
      const p = await deps.ports.check(id, args.port, args.https ?? false, signal);
      const state = p.answers ? `answers (HTTP ${p.httpStatus})` : 'not answering (nothing listens, or it is starting)';
      return ok(`${p.url} — port ${args.port} ${state}`, { url: p.url, answers: p.answers, ...(p.httpStatus ? { status: p.httpStatus } : {}) });
    },
  }),
];
