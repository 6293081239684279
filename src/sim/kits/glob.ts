/**
 * Glob → RegExp for the files kit's `glob` and `grep` (`**`, `*`, `?`, `{a,b}`, `[…]`), plus a tiny
 * directory walker with `.gitignore` support (top-level patterns only; no negation). Written for the
 * simulator, not a general-purpose library.
 */
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const ch = glob[i] as string;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 3 : 2;
        continue;
      }
      re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '{') {
      braces++;
      re += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (ch === ',' && braces > 0) re += '|';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^$()|\\/]/g, '\\$&');
    i++;
  }
  return new RegExp(`^${re}$`);
}

/** Matches `rel` (path relative to the search root): patterns without `/` match the basename too. */
export function globMatcher(glob: string): (rel: string) => boolean {
  const re = globToRegExp(glob);
  const baseOnly = !glob.includes('/');
  return (rel) => re.test(rel) || (baseOnly && re.test(path.posix.basename(rel)));
}

export interface WalkEntry {
  /** Host path. */
  host: string;
  /** Path relative to the walk root, `/`-separated. */
  rel: string;
  isDir: boolean;
  size: number;
  mtimeMs: number;
}

export interface WalkOptions {
  maxDepth: number;
  noIgnore: boolean;
  /** Stop after this many entries were scanned. */
  maxScanned: number;
  deadline: number;
}

async function loadIgnore(root: string): Promise<((rel: string, isDir: boolean) => boolean) | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(root, '.gitignore'), 'utf8');
  } catch {
    return undefined;
  }
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'))
    .map((l) => {
      const dirOnly = l.endsWith('/');
      const pat = l.replace(/^\//, '').replace(/\/$/, '');
      return { dirOnly, match: globMatcher(pat) };
    });
  return (rel, isDir) => rules.some((r) => (!r.dirOnly || isDir) && r.match(rel));
}

/** Depth-first walk; symlinks are reported but never followed; `.git` is always skipped. */
export async function walk(root: string, opts: WalkOptions, visit: (e: WalkEntry) => boolean | void): Promise<{ scanned: number; truncated: boolean }> {
  const ignored = opts.noIgnore ? undefined : await loadIgnore(root);
  let scanned = 0;
  let truncated = false;
  const stack: Array<{ dir: string; rel: string; depth: number }> = [{ dir: root, rel: '', depth: 0 }];
  while (stack.length) {
    const { dir, rel, depth } = stack.pop() as { dir: string; rel: string; depth: number };
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (name === '.git') continue;
      if (++scanned > opts.maxScanned || Date.now() > opts.deadline) return { scanned, truncated: true };
      const host = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      let st;
      try {
        st = await lstat(host);
      } catch {
        continue;
      }
      const isDir = st.isDirectory();
      if (ignored?.(r, isDir)) continue;
      if (visit({ host, rel: r, isDir, size: st.size, mtimeMs: st.mtimeMs }) === false) return { scanned, truncated: true };
      if (isDir && depth + 1 < opts.maxDepth) stack.push({ dir: host, rel: r, depth: depth + 1 });
    }
  }
  return { scanned, truncated };
}
