import * as z from 'zod';
import type { JobState, JobUpdate } from '../src/core/jobs.js';
import { MIN_SECRET_CHARS } from '../src/core/secrets.js';
import type { ToolContext } from '../src/mcp/define-tool.js';
import { fail, ok, reply } from '../src/mcp/result.js';
import { waitStream } from '../src/mcp/wait.js';
import { inContainer, jobUri, tool, waitDeadline, waitS, type Deps } from './common.js';
import { fmtSeconds } from './format.js';

const job = z.string().describe('Job handle from exec_run');

/** The last few lines of fresh output, for a progress message. */
function progressLine(fresh: string): string {
  const t = fresh.trimEnd();
  return t.length > 1000 ? `…${t.slice(-1000)}` : t;
}

/**
 * Follow a job through the shell's wait helper: new output streams as progress, a client cancel
 * kills the command, and the last update comes back when it ends or `waitS` passes.
 */
async function follow(ctx: ToolContext<Deps, string>, from: string | JobState, waitS: number, since = Date.now()): Promise<JobUpdate> {
  const { deps, scope: id } = ctx;
  const job = typeof from === 'string' ? from : from.job;
  let first = true; // the state at the start is the result's to show, not progress
  const { last } = await waitStream(ctx, {
    waitS,
    since,
    updates: (until, signal) => deps.jobs.updates(id, from, { until, signal }),
    progress: (u) => {
      const news = !first && !u.done && u.fresh;
      first = false;
      return news ? progressLine(u.fresh) : undefined;
    },
    cancel: () => deps.jobs.cancel(id, job, true),
  });
  return last ?? deps.jobs.status(id, job, { signal: ctx.signal });
}

/** A job as text: status line, then output (new output only, or the last `tail` lines). */
function report(containerId: string, s: JobUpdate, opts: { tail?: number; elapsedMs?: number } = {}) {
  let out = s.output.slice(s.shownFrom);
  if (opts.tail !== undefined) out = s.output.split('\n').slice(-opts.tail - (s.output.endsWith('\n') ? 1 : 0)).join('\n');
  const uri = jobUri(containerId, s.job);
  const took = opts.elapsedMs !== undefined ? ` · ${fmtSeconds(opts.elapsedMs)}` : '';
  const head = s.done
    ? `${s.status === 'completed' ? `exit ${s.exitCode ?? '?'}` : `${s.status}${s.exitCode !== null ? ` (exit ${s.exitCode})` : ''}`}${took}`
    : `still running${took} · job ${s.job} — exec_status polls, exec_input types, exec_cancel stops`;
  const later = s.shownFrom > 0 && opts.tail === undefined;
  const shown = later && out ? ' (new output)' : '';
  return reply()
    .text(`${head}${shown}`)
    .text(out || (later ? '(nothing new since the last look; tail=N shows the last N lines)' : '(no output)'), { head: 0.25, more: `full output: ${uri}`, link: { uri, name: `job ${s.job} output`, mimeType: 'text/plain' } })
    .structured({ job: s.job, status: s.status, done: s.done, exit_code: s.exitCode, output_chars: s.output.length });
}

export const execTools = [
  tool({
    name: 'exec_run',
    title: 'Run command',
    description:
      'Run a bash command in the container. Each call is a fresh shell: cwd (default /home/user) and env do not carry over; files and installs persist. stdout+stderr merged. Waits up to wait_s, then returns a job handle for exec_status / exec_input / exec_cancel.',
    toolset: 'exec',
    kind: 'write',
    scope: inContainer,
    deadline: waitDeadline(25),
    input: z.object({
      command: z.string().min(1),
      cwd: z.string().optional(),
      env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
      secret_env: z.array(z.string()).max(64).optional().describe('Names of env values to redact from all output'),
      user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).optional().describe('Run as this user'),
      timeout_s: z.number().int().min(1).max(86_400).optional().describe('Kill after this many seconds'),
      wait_s: waitS(25),
    }),
    async handler(args, ctx) {
      const startedAt = Date.now();
      const { command, cwd, env, user, timeout_s: timeoutS } = args;
      for (const name of args.secret_env ?? []) {
        const value = env?.[name];
        if (value === undefined) return fail(`secret_env names ${name}, which env does not set`, 'pass its value in env too');
        if (value.length < MIN_SECRET_CHARS) return fail(`the value of ${name} is too short to redact (under ${MIN_SECRET_CHARS} characters)`, 'pass a longer value, or leave it out of secret_env');
        ctx.deps.secrets.add(value);
      }
      const started = await ctx.deps.jobs.start(ctx.scope, { command, cwd, env, user, timeoutS }, ctx.signal);
      const s = await follow(ctx, started, args.wait_s ?? 25, startedAt);
      return report(ctx.scope, s, { elapsedMs: Date.now() - startedAt });
    },
  }),

  tool({
    name: 'exec_status',
    title: 'Job status',
    description: 'State, exit code and new output of a job; waits up to wait_s for it to finish. tail=N shows the last N lines instead.',
    toolset: 'exec',
    kind: 'read',
    scope: inContainer,
    deadline: waitDeadline(0),
    input: z.object({ job, wait_s: waitS(0), tail: z.number().int().min(1).max(10_000).optional() }),
    async handler(args, ctx) {
      return report(ctx.scope, await follow(ctx, args.job, args.wait_s ?? 0), { tail: args.tail });
    },
  }),

  tool({
    name: 'exec_input',
    title: 'Type into job',
    description: 'Send input to a running job: text as typed (no Enter added) and/or keys such as ["Enter"], ["Ctrl+C"], ["Up","Enter"].',
    toolset: 'exec',
    kind: 'write',
    scope: inContainer,
    input: z.object({ job, text: z.string().optional(), keys: z.array(z.string().min(1)).max(256).optional() }),
    async handler(args, { deps, signal, scope: id }) {
      if (!args.text && !args.keys?.length) return fail('nothing to send', 'pass text and/or keys');
      const s = await deps.jobs.get(id, args.job, signal);
      if (s.done) return fail(`job ${args.job} has finished (${s.status})`, 'start a new one with exec_run');
      const sent = await deps.jobs.input(id, args.job, { text: args.text, keys: args.keys }, signal);
      const parts = [
        ...(sent.bytes !== undefined ? [`${sent.bytes} bytes of text`] : []),
        ...(sent.keys !== undefined ? [`keys ${args.keys!.join(' ')}`] : []),
      ];
      return ok(`sent ${parts.join(' and ')} to job ${args.job} — exec_status shows the response`, { job: args.job, ...sent });
    },
  }),

  tool({
    name: 'exec_cancel',
    title: 'Stop job',
    description: 'Stop a running job: Ctrl+C, or kill its process group with force=true.',
    toolset: 'exec',
    kind: 'write',
    scope: inContainer,
    idempotent: true,
    input: z.object({ job, force: z.boolean().optional() }),
    async handler(args, { deps, signal, scope: id }) {
      const s = await deps.jobs.cancel(id, args.job, args.force ?? false, signal);
      if (!s.done) return fail(`job ${args.job} is still running after Ctrl+C`, 'call exec_cancel with force=true');
      return report(id, s);
    },
  }),
];
