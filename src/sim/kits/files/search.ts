/** The files kit's search: `glob` (names) and `grep` (lines), each returning its documented body. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { flag, intParam } from '../../util.js';
import { KitError } from '../base.js';
import { globMatcher, walk } from '../glob.js';
import type { FilesState, Target } from './state.js';

type GlobEntry = { is_dir: boolean; modified: number; name: string; size: number };

/** `GET /glob{dir}?pattern=` → entries with `modified` in SECONDS [R:50846-50928]. */
export async function globSearch(fs: FilesState, t: Target, pattern: string | null, q: URLSearchParams): Promise<Record<string, unknown>> {
  if (!pattern) throw new KitError(400, 'pattern parameter is required');
  await fs.requireDir(t);
  const t0 = Date.now();
  const maxResults = intParam(q.get('max_results'), 1000, 1, 100_000);
  const match = globMatcher(pattern);
  const found: GlobEntry[] = [];
  const { scanned, truncated: cut } = await walk(t.host, {
    maxDepth: intParam(q.get('max_depth'), 50, 1, 1000), noIgnore: flag(q, 'no_ignore'),
    maxScanned: intParam(q.get('max_files_scanned'), 100_000, 1, 10_000_000), deadline: t0 + intParam(q.get('timeout'), 30, 1, 300) * 1000,
  }, (e) => {
    if (match(e.rel)) found.push({ is_dir: e.isDir, modified: Math.floor(e.mtimeMs / 1000), name: path.posix.join(t.path, e.rel), size: e.size });
  });
  const sort = q.get('sort') ?? 'mtime';
  const desc = (q.get('order') ?? (sort === 'mtime' ? 'desc' : 'asc')) === 'desc' ? -1 : 1;
  const key = (e: GlobEntry): number | string => (sort === 'name' ? e.name : sort === 'size' ? e.size : e.modified);
  found.sort((a, b) => (key(a) < key(b) ? -desc : key(a) > key(b) ? desc : a.name < b.name ? -1 : 1));
  const entries = found.slice(0, maxResults);
  return {
    count: entries.length, duration_ms: Date.now() - t0, entries, path: t.path, pattern, total_scanned: scanned,
    truncated: cut || found.length > maxResults,
  };
}

interface GrepOptions {
  re: RegExp;
  context: number;
  maxCount: number;
  maxMatches: number;
  maxFilesize: number;
}

function grepOptions(pattern: string | null, q: URLSearchParams): GrepOptions {
  if (!pattern) throw new KitError(400, 'pattern parameter is required');
  let re: RegExp;
  try {
    const src = flag(q, 'fixed_string') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern;
    re = new RegExp(src, flag(q, 'ignore_case') ? 'i' : '');
  } catch (e) {
    throw new KitError(400, `Invalid pattern: ${(e as Error).message}`);
  }
  return {
    re, context: intParam(q.get('context'), 0, 0, 100), maxCount: intParam(q.get('max_count'), 50, 1, 1_000_000),
    maxMatches: intParam(q.get('max_matches'), 500, 1, 1_000_000), maxFilesize: intParam(q.get('max_filesize'), 10_485_760, 1, Number.MAX_SAFE_INTEGER),
  };
}

/** Matches of one file's lines, appended to `matches`; returns how many. */
function grepLines(text: string, shown: string, o: GrepOptions, matches: Array<Record<string, unknown>>): number {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let inFile = 0;
  for (let i = 0; i < lines.length && inFile < o.maxCount && matches.length < o.maxMatches; i++) {
    const line = lines[i] as string;
    const m = o.re.exec(line);
    if (!m) continue;
    inFile++;
    matches.push({
      path: shown, line_number: i + 1, line, column_byte: Buffer.byteLength(line.slice(0, m.index)),
      context_before: lines.slice(Math.max(0, i - o.context), i), context_after: o.context ? lines.slice(i + 1, i + 1 + o.context) : [],
    });
  }
  return inFile;
}

/** `GET /grep{path}?pattern=` — regex per line, binary files skipped [R:50929-51012]. */
export async function grepSearch(fs: FilesState, t: Target, pattern: string | null, q: URLSearchParams): Promise<Record<string, unknown>> {
  const o = grepOptions(pattern, q);
  const st = await fs.statOr404(t);
  const t0 = Date.now();
  const globFilter = q.get('glob') ? globMatcher(q.get('glob') as string) : undefined;
  const files: Array<{ host: string; rel: string; size: number }> = [];
  let truncated = false;
  if (st.isDirectory()) {
    const r = await walk(t.host, {
      maxDepth: intParam(q.get('max_depth'), 50, 1, 1000), noIgnore: flag(q, 'no_ignore'), maxScanned: 1_000_000,
      deadline: t0 + intParam(q.get('timeout'), 30, 1, 300) * 1000,
    }, (e) => {
      if (!e.isDir && (!globFilter || globFilter(e.rel))) files.push({ host: e.host, rel: e.rel, size: e.size });
    });
    truncated = r.truncated;
    files.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  } else files.push({ host: t.host, rel: '', size: st.size });
  const matches: Array<Record<string, unknown>> = [];
  let searched = 0;
  let filesMatched = 0;
  for (const f of files) {
    if (matches.length >= o.maxMatches) {
      truncated = true;
      break;
    }
    if (f.size > o.maxFilesize) continue;
    const buf = await readFile(f.host).catch(() => undefined);
    if (!buf || buf.subarray(0, 8192).includes(0)) continue; // binary files are skipped
    searched++;
    if (grepLines(buf.toString('utf8'), f.rel ? path.posix.join(t.path, f.rel) : t.path, o, matches)) filesMatched++;
  }
  return {
    duration_ms: Date.now() - t0, matches, path: t.path, pattern, total_files_matched: filesMatched, total_files_searched: searched,
    total_matches: matches.length, truncated,
  };
}
