import * as z from 'zod';
import { RAW_METHODS } from '../src/core/raw.js';
import { reply } from '../src/mcp/result.js';
import { container, target, tool } from './common.js';

export const rawTools = [
  tool({
    name: 'hoody_request',
    title: 'Hoody API request',
    description:
      'Call any documented Hoody endpoint: kit "api" (control plane, /api/v1/…) or a container kit slug (cron, notes, workspaces, http-8080…), path as documented. Kit URL and claim handled. Returns status + body.',
    toolset: 'raw',
    kind: 'destructive',
    // --read-only keeps it, narrowed to GET.
    actions: { arg: 'method', kinds: { GET: 'read', HEAD: 'read', POST: 'destructive', PUT: 'destructive', PATCH: 'destructive', DELETE: 'destructive' } },
    confirm: (a) => (a.method === 'GET' || a.method === 'HEAD' ? undefined : `Send ${a.method} ${a.path} to ${a.kit === 'api' ? 'the Hoody API' : `kit ${a.kit} of ${target(a)}`}?`),
    input: z.object({
      kit: z.string(),
      method: z.enum(RAW_METHODS),
      path: z.string(),
      container,
      query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      body: z.unknown().optional().describe('JSON, or a string sent as text'),
    }),
    async handler(args, { deps, signal }) {
      const containerId = args.kit === 'api' ? undefined : await deps.containerId(args.container, signal);
      const size = args.body === undefined ? 0 : typeof args.body === 'string' ? args.body.length : JSON.stringify(args.body).length;
      if (size > 1024 * 1024) return reply().text('body is over 1 MiB — write large content with file_write or file_transfer').failed();
      const r = await deps.raw.send({ kit: args.kit, method: args.method, path: args.path, containerId, query: args.query, body: args.body }, signal);
      const cut = r.cut === 'size' ? ` (first 1 MiB of ${r.bytes} bytes)` : r.cut === 'time' ? ' (a stream: cut after 10 s)' : '';
      return reply()
        .text(`HTTP ${r.status}${r.contentType ? ` ${r.contentType.split(';')[0]}` : ''}${r.message ? ` — ${r.message}` : ''}${cut}`)
        .text(r.text || '(empty body)', { head: 0.7, more: 'narrow the request (query, a smaller range)' })
        .structured({ status: r.status, bytes: r.bytes });
    },
  }),
];
