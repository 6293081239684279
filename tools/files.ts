import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat as localStat, unlink } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as z from 'zod';
import { containerPath, linesOf, type FileLine } from '../src/core/kits/files.js';
import { describeImage, scaleImage } from '../src/mcp/image.js';
import { BUDGET_CHARS, clip, fail, ok, reply } from '../src/mcp/result.js';
import { ticks, waitStream } from '../src/mcp/wait.js';
import { fileUri, inContainer, target, tool, waitDeadline, waitS, type Deps } from './common.js';
import { columns, count, fmtBytes, globRe, numbered, shortDiff } from './format.js';

const path = z.string().min(1).describe('Absolute container path (~ = /home/user)');

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };
/** Images up to this size are read and scaled (src/mcp/image.ts); larger ones come back as a link. */
const MAX_IMAGE_FILE = 20 * 1024 * 1024;
const MAX_TEXT_FILE = 16 * 1024 * 1024;
/** Characters of one line file_read shows. */
const LINE_CHARS = 2000;
/** A file up to this size is read in one request (bytes + size + mtime); a larger one by line range. */
const ONE_GET_BYTES = 1024 * 1024;

/**
 * Stream a file between this machine and the container, never buffered whole: reports the bytes
 * moved every few seconds and returns the total. A download lands under a temporary name first.
 */
async function transfer(deps: Deps, id: string, direction: 'upload' | 'download', local: string, remote: string, signal: AbortSignal, onMoved: (n: number) => void): Promise<number> {
  let moved = 0;
  let lastReport = Date.now();
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      moved += chunk.length;
      if (Date.now() - lastReport > 5_000) {
        lastReport = Date.now();
        onMoved(moved);
      }
      done(null, chunk);
    },
  });
  if (direction === 'upload') {
    await deps.files.write(id, remote, createReadStream(local).pipe(counter), { signal });
    await deps.edits.mark(id, remote, signal);
    return moved;
  }
  const { stream } = await deps.files.download(id, remote, signal);
  const tmp = `${local}.hoody-part`;
  try {
    await pipeline(stream, counter, createWriteStream(tmp), { signal });
    await rename(tmp, local);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return moved;
}

export const fileTools = [
  tool({
    name: 'file_read',
    title: 'Read file',
    description:
      'Read a text file with line numbers (cat -n). offset = first line (1-based), limit = line count (default up to 2000). Images come back as images; binary or huge files as a resource link.',
    toolset: 'files',
    kind: 'read',
    scope: inContainer,
    input: z.object({
      path,
      offset: z.number().int().min(1).optional(),
      limit: z.number().int().min(1).max(100_000).optional(),
    }),
    async handler(args, { deps, signal, scope: id }) {
      const p = containerPath(args.path);
      const mime = IMAGE_TYPES[posix.extname(p).toLowerCase()];
      const f = await deps.edits.fetch(id, p, mime ? MAX_IMAGE_FILE : ONE_GET_BYTES, signal);
      if (f.type === 'dir') return fail(`${p} is a directory`, 'use file_list');
      const uri = fileUri(id, p);
      if (mime && f.bytes) {
        const img = await scaleImage(f.bytes, { keep: true, signal });
        return reply().image(img).text(`${p} · ${describeImage(img)}`).structured({ path: p, width: img.width, height: img.height, scale: img.scale });
      }
      if (f.size > MAX_TEXT_FILE && !args.offset) {
        return reply()
          .text(`${p} is ${fmtBytes(f.size)}: too large to read whole — pass offset/limit, or file_transfer it`)
          .structured({ size: f.size })
          .link(uri, posix.basename(p), { size: f.size });
      }
      const first = args.offset ?? 1;
      const want = args.limit ?? 2000;
      // Bounded in the core: a huge line or range costs no more than what can be shown. Lines past
      // the budget are not needed either, unless a NUL byte may be among them (binary is told by any
      // line read).
      const nul = !f.bytes || f.bytes.includes(0);
      const shownBound = { chars: BUDGET_CHARS - 400, perLine: 8, lineChars: LINE_CHARS };
      const bounds = { maxBytes: BUDGET_CHARS * 4, maxLineBytes: LINE_CHARS * 4, ...(nul ? {} : { shown: shownBound }) };
      const { lines, total, stopped } = f.bytes
        ? linesOf(f.bytes, first, first + want - 1, bounds)
        : await deps.files.readLines(id, p, first, first + want - 1, { signal, ...bounds });
      // A NUL shows a binary file; a whole file in hand without one is known text at once (no per-line search).
      if (nul && lines.some((l) => l.text.includes('\0'))) {
        return reply()
          .text(`${p} is binary (${fmtBytes(f.size)}) — read it as a resource, or file_transfer it`)
          .structured({ size: f.size, binary: true })
          .link(uri, posix.basename(p), { mimeType: mime ?? 'application/octet-stream', size: f.size });
      }
      if (f.bytes) deps.edits.markContent(id, p, f.bytes);
      else await deps.edits.mark(id, p, signal);
      if (!lines.length) return ok(f.size === 0 ? `${p} is empty` : `${p} has fewer than ${first} lines${total ? ` (${total})` : ''}`, { lines: 0, total: total ?? null });
      // Fit whole lines into the budget; the rest is reached with offset.
      let used = 0;
      let n = 0;
      for (; n < lines.length; n++) {
        used += Math.min(lines[n]!.text.length, shownBound.lineChars) + shownBound.perLine;
        if (used > shownBound.chars) break;
      }
      const cut = (l: FileLine) => `${l.text.slice(0, LINE_CHARS)}... [line cut at ${LINE_CHARS} chars of ${fmtBytes(l.bytes)}${l.ended ? '' : ' or more'}]`;
      const shown = lines.slice(0, n).map((l) => (l.text.length > LINE_CHARS || !l.whole ? cut(l) : l.text));
      const last = first + n - 1;
      const more = n < lines.length || stopped || (total === undefined ? lines.length >= want : last < total);
      const note = more ? `\n... lines ${first}-${last} shown${total ? ` of ${total}` : ''}; continue with offset=${last + 1}` : '';
      return ok(numbered(shown, first) + note, { path: p, first, last, total: total ?? null, more });
    },
  }),

  tool({
    name: 'file_write',
    title: 'Write file',
    description: 'Create or overwrite a file (parent directories are created), or append to it. content is utf8 text, or base64 with encoding="base64".',
    toolset: 'files',
    kind: 'write',
    scope: inContainer,
    input: z.object({
      path,
      content: z.string(),
      encoding: z.enum(['utf8', 'base64']).optional(),
      append: z.boolean().optional(),
    }),
    async handler(args, { deps, signal, scope: id }) {
      const p = containerPath(args.path);
      if (args.encoding === 'base64' && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(args.content)) {
        return fail('content is not valid base64', 'send utf8 text without encoding, or valid base64');
      }
      const bytes = Buffer.from(args.content, args.encoding === 'base64' ? 'base64' : 'utf8');
      const size = await deps.files.write(id, p, bytes, { append: args.append, signal });
      if (args.append) await deps.edits.mark(id, p, signal);
      else deps.edits.markContent(id, p, bytes);
      return ok(`${args.append ? 'appended' : 'wrote'} ${fmtBytes(bytes.length)} to ${p}${args.append ? ` (now ${fmtBytes(size)})` : ''}`, {
        path: p,
        bytes: bytes.length,
        size,
      });
    },
  }),

  tool({
    name: 'file_edit',
    title: 'Edit file',
    description:
      'Replace old_string with new_string in a file (exact match, whitespace included). Fails if it is missing, or found more than once without replace_all, or if the file changed since you read it. Returns a short diff.',
    toolset: 'files',
    kind: 'write',
    scope: inContainer,
    input: z.object({
      path,
      old_string: z.string().min(1),
      new_string: z.string(),
      replace_all: z.boolean().optional(),
    }),
    async handler(args, { deps, signal, scope: id }) {
      const p = containerPath(args.path);
      const { before, after, replacements: n } = await deps.edits.replace(id, p, args.old_string, args.new_string, args.replace_all ?? false, signal);
      return ok(`edited ${p} (${count(n, 'replacement')})\n${clip(shortDiff(before, after), { budget: 4000 }).text}`, { path: p, replacements: n });
    },
  }),

  tool({
    name: 'file_list',
    title: 'List directory',
    description: 'List a directory: d/f, size, name. pattern filters names (glob, e.g. *.ts); recursive walks subdirectories.',
    toolset: 'files',
    kind: 'read',
    scope: inContainer,
    input: z.object({ path, pattern: z.string().optional(), recursive: z.boolean().optional() }),
    async handler(args, { deps, signal, scope: id }) {
      const p = containerPath(args.path);
      let rows: string[][];
      let truncated = false;
      if (args.recursive) {
        const g = await deps.files.glob(id, p, `**/${args.pattern ?? '*'}`, { maxResults: 2000, signal });
        truncated = g.truncated;
        rows = g.entries.map((e) => [e.type === 'dir' ? 'd' : 'f', e.type === 'dir' ? '' : fmtBytes(e.size), posix.relative(p, e.path) || e.path]);
      } else {
        const re = args.pattern ? globRe(args.pattern) : undefined;
        const list = (await deps.files.list(id, p, signal)).filter((e) => !re || re.test(e.name));
        list.sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));
        rows = list.map((e) => [e.type === 'dir' ? 'd' : 'f', e.type === 'dir' ? '' : fmtBytes(e.size), e.type === 'dir' ? `${e.name}/` : e.name]);
      }
      if (!rows.length) return ok(`${p}: no entries${args.pattern ? ` matching ${args.pattern}` : ''}`, { path: p, count: 0 });
      return reply()
        .text(`${p} · ${count(rows.length, 'entry', 'entries')}${truncated ? ' (kit truncated the walk)' : ''}`)
        .text(columns(rows), { head: 1, more: 'narrow with pattern, or list a subdirectory' })
        .structured({ path: p, count: rows.length, truncated });
    },
  }),

  tool({
    name: 'file_search',
    title: 'Search file contents',
    description: 'Search file contents under a directory (ripgrep regex; .gitignore respected). Returns path:line: text.',
    toolset: 'files',
    kind: 'read',
    scope: inContainer,
    input: z.object({
      pattern: z.string().min(1).describe('Regex (or literal with fixed=true)'),
      path: path.optional().describe('Directory (default /home/user)'),
      glob: z.string().optional().describe('Only files matching, e.g. *.py'),
      ignore_case: z.boolean().optional(),
      fixed: z.boolean().optional(),
    }),
    async handler(args, { deps, signal, scope: id }) {
      const dir = containerPath(args.path ?? '/home/user');
      const r = await deps.files.grep(id, dir, args.pattern, { glob: args.glob, ignoreCase: args.ignore_case, fixed: args.fixed, maxMatches: 500, signal });
      if (!r.matches.length) return ok(`no matches for ${args.pattern} under ${dir}`, { count: 0 });
      const lines = r.matches.map((m) => `${m.path}:${m.line}: ${m.text.length > 300 ? `${m.text.slice(0, 300)}…` : m.text}`);
      const more = r.truncated ? ` (more matches exist; narrow the search)` : '';
      return reply()
        .text(`${count(r.matches.length, 'match', 'matches')}${more}`)
        .text(lines.join('\n'), { head: 1, more: 'narrow with path or glob' })
        .structured({ count: r.matches.length, truncated: r.truncated });
    },
  }),

  tool({
    name: 'file_manage',
    title: 'Move/copy/mkdir',
    description: 'move (rename) or copy path to `to`, or mkdir path (parents included).',
    toolset: 'files',
    kind: 'write',
    scope: inContainer,
    input: z.object({
      op: z.enum(['move', 'copy', 'mkdir']),
      path,
      to: z.string().optional().describe('Destination path (move, copy)'),
      overwrite: z.boolean().optional().describe('copy: replace an existing destination'),
    }),
    async handler(args, { deps, signal, scope: id }) {
      const p = containerPath(args.path);
      if (args.op === 'mkdir') {
        await deps.files.mkdir(id, p, signal);
        return ok(`created ${p}/`, { path: p });
      }
      if (!args.to) return fail(`${args.op} needs \`to\``, 'pass the destination path');
      const to = containerPath(args.to);
      if (args.op === 'copy') await deps.files.copy(id, p, to, args.overwrite ?? false, signal);
      else await deps.files.move(id, p, to, signal);
      deps.edits.forget(id, p);
      return ok(`${args.op === 'copy' ? 'copied' : 'moved'} ${p} → ${to}`, { from: p, to });
    },
  }),

  tool({
    name: 'file_delete',
    title: 'Delete file',
    description: 'Delete a file, or a directory and everything in it (recursive=true required).',
    toolset: 'files',
    kind: 'destructive',
    scope: inContainer,
    confirm: (a) => (a.recursive ? `Delete ${a.path} and everything in it on ${target(a)}?` : undefined),
    input: z.object({ path, recursive: z.boolean().optional() }),
    async handler(args, { deps, signal, scope: id }) {
      const p = containerPath(args.path);
      if (p === '/') return fail('refusing to delete /', 'name what to delete');
      const s = await deps.edits.statOrFail(id, p, signal);
      if (s.type === 'dir' && !args.recursive) {
        return fail(`${p} is a directory`, 'pass recursive=true to delete it and everything in it');
      }
      await deps.files.remove(id, p, signal);
      deps.edits.forget(id, p);
      return ok(`deleted ${p}${s.type === 'dir' ? '/ (recursively)' : ''}`, { path: p, deleted: true });
    },
  }),

  tool({
    name: 'file_watch',
    title: 'Watch for changes',
    description:
      'Wait (up to wait_s) for files to change under paths, recursively. Returns events and a cursor; pass it as since to continue with no event lost.',
    toolset: 'files',
    kind: 'read',
    scope: inContainer,
    deadline: waitDeadline(25),
    input: z.object({
      paths: z.array(z.string().min(1)).min(1).max(32).optional().describe('Existing files or directories'),
      since: z.string().optional().describe('Cursor from a previous file_watch'),
      wait_s: waitS(25),
    }),
    async handler(args, ctx) {
      if (!args.since && !args.paths?.length) return fail('nothing to watch', 'pass paths, or the since cursor of a previous file_watch');
      const paths = args.paths?.map(containerPath);
      await ctx.progress(`watching ${paths?.join(', ') ?? 'since cursor'}`);
      const { last: r } = await waitStream(ctx, {
        waitS: args.wait_s ?? 25,
        updates: async function* (until, signal) {
          yield await ctx.deps.watches.wait(ctx.scope, { paths, since: args.since, until, signal });
        },
      });
      if (!r) return fail(`the watch did not answer within ${args.wait_s ?? 25} s`, 'call file_watch again (pass since to continue from your cursor)');
      const lines = r.events.map((e) => `${e.kind.padEnd(8)} ${e.oldPath ? `${e.oldPath} → ` : ''}${e.path}${e.isDir ? '/' : ''}`);
      const head = r.events.length
        ? `${count(r.events.length, 'event')}${r.more ? ' (more buffered: call again with since)' : ''}`
        : `no changes within ${args.wait_s ?? 25} s`;
      const out = reply().text(`${head} · cursor ${r.cursor}`);
      if (lines.length) out.text(lines.join('\n'), { head: 1, more: 'call again with since' });
      return out.structured({
        cursor: r.cursor,
        count: r.events.length,
        more: r.more,
        events: r.events.slice(0, 100).map((e) => ({ id: e.id, kind: e.kind, path: e.path, ...(e.oldPath ? { old_path: e.oldPath } : {}) })),
      });
    },
  }),

  tool({
    name: 'file_transfer',
    title: 'Upload/download file',
    description: 'Copy a file between this machine and the container, streamed (never through the model). Local server only.',
    toolset: 'files',
    kind: 'write',
    scope: inContainer,
    idempotent: true,
    localOnly: "local paths would be the server host's; use file_read/file_write",
    // A transfer takes as long as its size needs; stalls are the HTTP core's to catch.
    deadline: () => null,
    input: z.object({
      direction: z.enum(['upload', 'download']),
      local_path: z.string().min(1).describe('Absolute path on this machine'),
      remote_path: path,
    }),
    async handler(args, ctx) {
      if (!isAbsolute(args.local_path)) return fail(`local_path "${args.local_path}" is not absolute`, 'pass an absolute path on this machine');
      if (args.direction === 'upload' && !(await localStat(args.local_path).catch(() => undefined))?.isFile()) {
        return fail(`${args.local_path} is not a readable file on this machine`);
      }
      const p = containerPath(args.remote_path);
      const started = Date.now();
      const { last: moved = 0 } = await waitStream(ctx, {
        waitS: Infinity,
        updates: (_until, signal) => ticks<number>((onTick) => transfer(ctx.deps, ctx.scope, args.direction, args.local_path, p, signal, onTick)),
        progress: (n) => `${fmtBytes(n)} moved`,
      });
      const secs = (Date.now() - started) / 1000;
      const from = args.direction === 'upload' ? args.local_path : p;
      const to = args.direction === 'upload' ? p : args.local_path;
      return ok(`${args.direction === 'upload' ? 'uploaded' : 'downloaded'} ${fmtBytes(moved)} ${from} → ${to} in ${secs.toFixed(1)} s`, { bytes: moved, from, to });
    },
  }),
];
