/**
 * One container's filesystem as the files kit sees it (seed-kits-exec-files.md §3): container path →
 * host path, permissions, and the operations (stat, list, write, copy, move, delete, chmod).
 * HTTP-free: `routes.ts` parses requests and sends the bodies this module builds.
 *
 * Owned prefixes map into the container sandbox; everything else reads through to the host and is
 * read-only (403). Choices where the seeds are silent: writes create missing parent directories (as
 * `/append` does [R:51485]); `mkdir` creates parents and answers 409 when the path exists.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerRec } from '../../records.js';
import { isOwned, mapPath, normalizeContainerPath, OWNED_PREFIXES, PathError, resolveContainerPath } from '../../sandbox.js';
import type { SimCore } from '../../state.js';
import { KitError, type KitState } from '../base.js';

export interface Target {
  /** The container path as requested (normalised). */
  path: string;
  /** Symlink-resolved container path. */
  resolved: string;
  host: string;
  owned: boolean;
}

export type WriteMode = 'overwrite' | 'append' | { offset: number };

function insideOf(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent + '/');
}

export async function exists(host: string): Promise<boolean> {
  return lstat(host).then(() => true, () => false);
}

export class FilesState implements KitState {
  constructor(
    private readonly core: SimCore,
    private readonly container: ContainerRec,
  ) {}

  stop(): void {
    // Nothing runs: the sandbox on disk is the state.
  }

  /* ------------------------------------------------------------------ path resolution */

  /** `raw` as a container path: normalised, symlink-resolved (`followLast`), mapped to the host. */
  async target(raw: string, followLast = true): Promise<Target> {
    let p: string;
    try {
      p = normalizeContainerPath(raw === '' ? '/' : raw);
    } catch {
      throw new KitError(400, `Invalid path: ${raw}`);
    }
    const root = this.core.sandboxRoot(this.container.id);
    let resolved: string;
    try {
      resolved = await resolveContainerPath(root, p, followLast);
    } catch (e) {
      if (e instanceof PathError) throw new KitError(400, e.message);
      throw e;
    }
    const host = mapPath(root, resolved);
    const owned = isOwned(resolved);
    // Host read-through must never reach another container's sandbox or the simulator's data.
    const data = this.core.dataDir;
    if (!owned && (host === data || host.startsWith(data + path.sep))) throw new KitError(403, `Access to ${p} is forbidden`);
    return { path: p, resolved, host, owned };
  }

  writable(t: Target): void {
    const isPrefixRoot = (OWNED_PREFIXES as readonly string[]).includes(t.resolved);
    if (!t.owned || isPrefixRoot || t.resolved === '/home/user') throw new KitError(403, `Access to ${t.path} is forbidden`);
  }

  async statOr404(t: Target, message?: string): Promise<Stats> {
    try {
      return await stat(t.host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new KitError(403, `Access to ${t.path} is forbidden`);
      throw new KitError(404, message ?? `File or directory not found: ${t.path}`);
    }
  }

  async requireDir(t: Target): Promise<Stats> {
    const st = await this.statOr404(t);
    if (!st.isDirectory()) throw new KitError(400, `Not a directory: ${t.path}`);
    return st;
  }

  /* ------------------------------------------------------------------ shapes */

  /** The `?stat` / `/stat` body [S:6917-6922]. */
  async statJson(t: Target): Promise<Record<string, unknown>> {
    let lst: Stats;
    try {
      lst = await lstat(t.host);
    } catch {
      throw new KitError(404, 'File not found');
    }
    const st = lst.isSymbolicLink() ? await stat(t.host).catch(() => lst) : lst;
    // Owned paths belong to the container's default user [S:553].
    const who = t.owned ? { owner: 'user', group: 'user' } : { owner: st.uid === 0 ? 'root' : String(st.uid), group: st.gid === 0 ? 'root' : String(st.gid) };
    return {
      name: path.posix.basename(t.path) || '/', path: t.path, path_type: st.isDirectory() ? 'Dir' : 'File', size: st.size,
      permissions: (st.mode & 0o777).toString(8), ...who, mtime: Math.round(st.mtimeMs), revisions: 0,
      is_symlink: lst.isSymbolicLink(), symlink_target: lst.isSymbolicLink() ? await readlink(t.host).catch(() => null) : null,
    };
  }

  /** The dufs-style directory listing, entries under `key` (`paths` or `entries`, a seed contradiction). */
  async listing(t: Target, key: 'paths' | 'entries'): Promise<Record<string, unknown>> {
    const names = (await readdir(t.host)).sort();
    const items = [];
    for (const name of names) {
      const host = path.join(t.host, name);
      const st = await stat(host).catch(() => lstat(host).catch(() => undefined));
      if (!st) continue;
      items.push({ name, path_type: st.isDirectory() ? 'Dir' : 'File', size: st.size, mtime: Math.round(st.mtimeMs), revisions: null });
    }
    return {
      allow_archive: false, allow_delete: true, allow_search: true, allow_upload: true, auth: false, dir_exists: true,
      href: t.path, kind: 'Index', [key]: items, uri_prefix: '/api/v1/files', user: 'user',
    };
  }

  /* ------------------------------------------------------------------ writes */

  /** Streams `body` into `t` and returns the new size; overwrite goes through a temp file + rename. */
  async receive(t: Target, body: Readable, mode: WriteMode): Promise<number> {
    this.writable(t);
    const cur = await stat(t.host).catch(() => undefined);
    if (cur?.isDirectory()) throw new KitError(409, `Path is a directory: ${t.path}`);
    await mkdir(path.dirname(t.host), { recursive: true });
    if (mode === 'overwrite') {
      const tmp = path.join(path.dirname(t.host), `.${path.basename(t.host)}.upload-${randomBytes(4).toString('hex')}`);
      try {
        await pipeline(body, createWriteStream(tmp));
        await rename(tmp, t.host);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    } else if (mode === 'append') {
      await pipeline(body, createWriteStream(t.host, { flags: 'a' }));
    } else {
      await pipeline(body, createWriteStream(t.host, { flags: cur ? 'r+' : 'w', start: mode.offset }));
    }
    return (await stat(t.host)).size;
  }

  async mkdir(t: Target): Promise<void> {
    this.writable(t);
    if (await exists(t.host)) throw new KitError(409, `Directory already exists: ${t.path}`);
    await mkdir(t.host, { recursive: true });
  }

  /** Recursive, no confirmation [S:7132]. */
  async remove(t: Target): Promise<void> {
    if (!(await exists(t.host))) throw new KitError(404, `File or directory not found: ${t.path}`);
    this.writable(t);
    await rm(t.host, { recursive: true, force: true });
  }

  /** Recursive, creates parents [S:7076-7084]; returns the destination. */
  async copy(src: Target, to: string, overwrite: boolean): Promise<Target> {
    if (!(await exists(src.host))) throw new KitError(404, `Source not found: ${src.path}`);
    const dst = await this.target(to);
    this.writable(dst);
    if (insideOf(src.resolved, dst.resolved)) throw new KitError(400, 'Cannot copy a path into itself');
    if (await exists(dst.host)) {
      if (!overwrite) throw new KitError(409, 'Destination already exists');
      await rm(dst.host, { recursive: true, force: true });
    }
    await mkdir(path.dirname(dst.host), { recursive: true });
    await cp(src.host, dst.host, { recursive: true, verbatimSymlinks: true });
    return dst;
  }

  /** No overwrite [S:7076]; `src` is not followed if it is a symlink. Returns the destination. */
  async move(src: Target, to: string): Promise<Target> {
    if (!(await exists(src.host))) throw new KitError(404, `Source not found: ${src.path}`);
    this.writable(src);
    const dst = await this.target(to, false);
    this.writable(dst);
    if (insideOf(src.resolved, dst.resolved)) throw new KitError(400, 'Cannot move a path into itself');
    if (await exists(dst.host)) throw new KitError(409, 'Destination already exists');
    await mkdir(path.dirname(dst.host), { recursive: true });
    await rename(src.host, dst.host);
    return dst;
  }

  async chmod(t: Target, mode: string): Promise<void> {
    if (!/^[0-7]{3,4}$/.test(mode)) throw new KitError(400, 'Invalid chmod mode');
    this.writable(t);
    await this.statOr404(t);
    await chmod(t.host, parseInt(mode, 8));
  }
}
