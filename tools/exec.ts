import * as z from 'zod';
import type { JobState, JobUpdate } from '../src/core/jobs.js';
import { clip, fail, ok, resourceLink } from '../src/mcp/result.js';
import { container, jobUri, tool, waitS } from './common.js';
import { fmtSeconds } from './format.js';

const job = z.string().describe('Job handle from exec_run');

/** The last few lines of fresh output, for a progress message. */
function progressLine(fresh: string): string {
  const t = fresh.trimEnd();
  return t.length > 1000 ? `…${t.slice(-1000)}` : t;
}

/** Where a result's new output starts: what the core has not shown this caller before. */
const shownFrom = (s: JobUpdate) => s.output.length - s.fresh.length;

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
    input: z.object({
      container,
      command: z.string().min(1),
      cwd: z.string().optional(),
      env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
      user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).optional().describe('Run as this user'),
      timeout_s: z.number().int().min(1).max(86_400).optional().describe('Kill after this many seconds'),
      wait_s: waitS(25),
    }),
    async handler(args, { deps, signal, progress }) {
      const id = await deps.containerId(args.container, signal);
      const startedAt = Date.now();
      const s = await deps.jobs.run(
        id,
        { command: args.command, cwd: args.cwd, env: args.env, user: args.user, timeoutS: args.timeout_s },
        { until: startedAt + (args.wait_s ?? 25) * 1000, signal, onOutput: (fresh) => progress(progressLine(fresh)) },
      );
      return report(id, s, { from: shownFrom(s), elapsedMs: Date.now() - startedAt });
    },
  }),

  tool({
    name: 'exec_status',
    title: 'Job status',
    description: 'State, exit code and new output of a job; waits up to wait_s for it to finish. tail=N shows the last N lines instead.',
    toolset: 'exec',
    kind: 'read',
    input: z.object({ container, job, wait_s: waitS(0), tail: z.number().int().min(1).max(10_000).optional() }),
    async handler(args, { deps, signal, progress }) {
      const id = await deps.containerId(args.container, signal);
      const until = Date.now() + (args.wait_s ?? 0) * 1000;
      const s = await deps.jobs.status(id, args.job, { until, signal, onOutput: (fresh) => progress(progressLine(fresh)) });
      return report(id, s, { from: shownFrom(s), tail: args.tail });
    },
  }),

  tool({
    name: 'exec_input',
    title: 'Type into job',
    description: 'Send input to a running job: text as typed (no Enter added) and/or keys such as ["Enter"], ["Ctrl+C"], ["Up","Enter"].',
    toolset: 'exec',
    kind: 'write',
    input: z.object({ container, job, text: z.string().optional(), keys: z.array(z.string().min(1)).max(256).optional() }),
    async handler(args, { deps, signal }) {
      if (!args.text && !args.keys?.length) return fail('nothing to send', 'pass text and/or keys');
      const id = await deps.containerId(args.container, signal);
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
    idempotent: true,
    input: z.object({ container, job, force: z.boolean().optional() }),
    async handler(args, { deps, signal }) {
      const id = await deps.containerId(args.container, signal);
      const s = await deps.jobs.cancel(id, args.job, args.force ?? false, signal);
      if (!s.done) return fail(`job ${args.job} is still running after Ctrl+C`, 'call exec_cancel with force=true');
      return report(id, s, { from: shownFrom(s) });
    },
  }),
];
