import * as z from 'zod';
import type { JobState } from '../src/core/jobs.js';
import { clip, fail, ok, resourceLink } from '../src/mcp/result.js';
import { inContainer, jobUri, tool, waitDeadline, waitS, type Deps } from './common.js';
import { fmtSeconds } from './format.js';
import type { ToolContext } from '../src/mcp/define-tool.js';

const job = z.string().describe('Job handle from exec_run');

/** The last few lines of fresh output, for a progress message. */
function progressLine(fresh: string): string {
  const t = fresh.trimEnd();
  return t.length > 1000 ? `…${t.slice(-1000)}` : t;
}

/**
 * Wait on a job until it ends or `waitS` passes, streaming new output as progress; a client
 * cancel aborts the remote command too.
 */
async function waitJob(containerId: string, state: JobState, waitSec: number, ctx: ToolContext<Deps, string>, startedAt: number) {
  const { deps, signal, progress } = ctx;
  const killRemote = () => void deps.jobs.cancel(containerId, state.job, true).catch(() => undefined);
  signal.addEventListener('abort', killRemote, { once: true });
  let last = state;
  try {
    for await (const u of deps.jobs.follow(containerId, state.job, { until: startedAt + waitSec * 1000, signal, seen: deps.jobs.seen(containerId, state.job) })) {
      last = u;
      if (!u.done && u.fresh) await progress(progressLine(u.fresh));
    }
  } finally {
    signal.removeEventListener('abort', killRemote);
  }
  return last;
}

/** A job as text: status line, then output (new output only, or the last `tail` lines). */
function report(containerId: string, s: JobState, opts: { from: number; tail?: number; elapsedMs?: number }) {
  let out = s.output.slice(Math.min(opts.from, s.output.length));
  if (opts.tail !== undefined) out = s.output.split('\n').slice(-opts.tail - (s.output.endsWith('\n') ? 1 : 0)).join('\n');
  const uri = jobUri(containerId, s.job);
  const body = clip(out, { head: 0.25, more: `full output: ${uri}` });
  const took = opts.elapsedMs !== undefined ? ` · ${fmtSeconds(opts.elapsedMs)}` : '';
  const head = s.done
    ? `${s.status === 'completed' ? `exit ${s.exitCode ?? '?'}` : `${s.status}${s.exitCode !== null ? ` (exit ${s.exitCode})` : ''}`}${took}`
    : `still running${took} · job ${s.job} — exec_status polls, exec_input types, exec_cancel stops`;
  const shown = opts.from > 0 && opts.tail === undefined && s.output.length > 0 ? ' (new output)' : '';
  const text = `${head}${shown}\n${body.text || '(no output)'}`;
  const structured = { job: s.job, status: s.status, done: s.done, exit_code: s.exitCode, output_chars: s.output.length };
  return ok(text, structured, body.cut ? [resourceLink(uri, `job ${s.job} output`, { mimeType: 'text/plain' })] : []);
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
      user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).optional().describe('Run as this user'),
      timeout_s: z.number().int().min(1).max(86_400).optional().describe('Kill after this many seconds'),
      wait_s: waitS(25),
    }),
    async handler(args, ctx) {
      const { deps, signal, scope: id } = ctx;
      const startedAt = Date.now();
      const started = await deps.jobs.start(
        id,
        { command: args.command, cwd: args.cwd, env: args.env, user: args.user, timeoutS: args.timeout_s },
        signal,
      );
      const s = await waitJob(id, started, args.wait_s ?? 25, ctx, startedAt);
      deps.jobs.markSeen(id, s.job, s.output.length);
      if (!s.done) deps.jobs.track(id, s.job);
      return report(id, s, { from: 0, elapsedMs: Date.now() - startedAt });
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
      const { deps, signal, scope: id } = ctx;
      const from = deps.jobs.seen(id, args.job);
      let s = await deps.jobs.get(id, args.job, signal);
      if (!s.done && (args.wait_s ?? 0) > 0) s = await waitJob(id, s, args.wait_s!, ctx, Date.now());
      deps.jobs.markSeen(id, s.job, s.output.length);
      return report(id, s, { from, tail: args.tail });
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
      const from = deps.jobs.seen(id, args.job);
      const s = await deps.jobs.cancel(id, args.job, args.force ?? false, signal);
      deps.jobs.markSeen(id, s.job, s.output.length);
      if (!s.done) return fail(`job ${args.job} is still running after Ctrl+C`, 'call exec_cancel with force=true');
      return report(id, s, { from });
    },
  }),
];
