/**
 * Container filesystems and command isolation.
 *
 * Each container owns a sandbox directory `dataDir/containers/{id}/`. Container paths under the
 * container-owned prefixes (`/home`, `/root`, `/tmp`, `/srv`, `/workspace`, `/hoody`, `/data`) live
 * at `sandbox + path`; every other absolute path reads through to the host (read-only for the
 * files kit). The container's home is `/home/user` (default user `user` [S:553-560]).
 *
 * Commands (terminal kit) see the same view when the machine lets us build a private mount
 * namespace ("namespace" isolation). Once per container, `unshare -m` (root) or `unshare -r -m`
 * (user namespace) starts a holder process whose namespace rbind-mounts every host top-level entry
 * onto a skeleton root under `dataDir/.root` (owned prefixes excepted) and the sandbox dirs onto the
 * owned prefixes; each command joins it (`nsenter`) and `chroot`s into the skeleton. Nothing is
 * created on the host's real `/`, and the mounts are invisible outside the namespace. If that is
 * impossible, commands run with cwd and HOME pointing into the sandbox ("cwd" isolation) —
 * container paths in command lines then reach the host. Either way commands run as the
 * simulator's own user: this is a convenience sandbox, not a security boundary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Isolation } from './types.js';

export const OWNED_PREFIXES = ['/home', '/root', '/tmp', '/srv', '/workspace', '/hoody', '/data'] as const;
export const CONTAINER_HOME = '/home/user';

export class PathError extends Error {
  constructor(
    readonly code: 'INVALID' | 'LOOP',
    message: string,
  ) {
    super(message);
  }
}

/** Normalises an absolute container path: rejects NUL / relative paths; `..` cannot climb above `/`. */
export function normalizeContainerPath(raw: string): string {
  if (!raw.startsWith('/') || raw.includes('\0')) throw new PathError('INVALID', `Invalid path: ${raw}`);
  let p = path.posix.normalize(raw);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export function isOwned(containerPath: string): boolean {
  return OWNED_PREFIXES.some((pre) => containerPath === pre || containerPath.startsWith(pre + '/'));
}

/** Host location of a (normalised, symlink-free) container path. */
export function mapPath(sandboxRoot: string, containerPath: string): string {
  return isOwned(containerPath) ? path.join(sandboxRoot, containerPath) : containerPath;
}

/**
 * Resolves symlinks with container semantics, component by component: an absolute link target is a
 * container path (so `ln -s /etc x` in the sandbox means the container's /etc, and a link to `/root`
 * stays inside the sandbox); nothing ever resolves outside the container view. Missing components
 * end resolution (the rest is appended). `followLast=false` keeps a final symlink itself (lstat).
 */
export async function resolveContainerPath(sandboxRoot: string, containerPath: string, followLast = true): Promise<string> {
  let hops = 0;
  let pending = normalizeContainerPath(containerPath).split('/').filter(Boolean);
  let resolved = '/';
  while (pending.length) {
    const part = pending.shift() as string;
    const candidate = path.posix.join(resolved, part);
    const isLast = pending.length === 0;
    let st;
    try {
      st = await lstat(mapPath(sandboxRoot, candidate));
    } catch {
      return path.posix.join(candidate, ...pending);
    }
    if (st.isSymbolicLink() && (followLast || !isLast)) {
      if (++hops > 40) throw new PathError('LOOP', `Too many levels of symbolic links: ${containerPath}`);
      const target = await readlink(mapPath(sandboxRoot, candidate));
      const abs = target.startsWith('/') ? target : path.posix.join(resolved, target);
      pending = [...normalizeContainerPath(abs).split('/').filter(Boolean), ...pending];
      resolved = '/';
      continue;
    }
    resolved = candidate;
  }
  return resolved;
}

/** Creates the sandbox skeleton of a container. */
export async function createSandbox(sandboxRoot: string): Promise<void> {
  for (const pre of OWNED_PREFIXES) await mkdir(path.join(sandboxRoot, pre), { recursive: true });
  await mkdir(path.join(sandboxRoot, CONTAINER_HOME), { recursive: true });
  await chmod(path.join(sandboxRoot, '/tmp'), 0o1777);
}

/* ------------------------------------------------------------------------------------------------ */
/* Isolation                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Builds a container's mount namespace, then holds it open: it prints `ready` and waits on stdin,
 * so it ends when the simulator ends that pipe (or dies). Everything it mounts is listed in a
 * generated fstab (one `mount --all` call: process start-up is the slow part on small VMs): each
 * host top-level entry rbind-mounted onto a skeleton root prepared on disk by {@link Isolator},
 * then the sandbox dirs over the owned prefixes. Commands join the namespace with `nsenter` and
 * `chroot` into the skeleton.
 */
const HOLDER_SCRIPT = `
mount --all --fstab "$HOODY_SIM_FSTAB" || exit 1
echo ready
exec cat >/dev/null
`;

/**
 * Runs the user command. `eval` in this shell (not a child `bash -c`) so a `cd` persists into the
 * session: the EXIT trap reports the final working directory on fd 3. stderr is merged into stdout,
 * as a PTY would [seed-kits §1.2]. A per-command cwd (`HOODY_SIM_STRICT_CWD`) that does not exist
 * fails the command; a stale session cwd falls back to HOME.
 */
const INNER_SCRIPT = `
exec 2>&1
if [ -n "$HOODY_SIM_STRICT_CWD" ]; then cd -- "$HOODY_SIM_CWD" || exit 1
else cd -- "$HOODY_SIM_CWD" 2>/dev/null || cd -- "$HOME" 2>/dev/null || cd /
fi
__hoody_cmd="$HOODY_SIM_CMD"
unset HOODY_SIM_CMD HOODY_SIM_CWD HOODY_SIM_STRICT_CWD
trap 'printf "%s" "$PWD" >&3 2>/dev/null' EXIT
eval "$__hoody_cmd"
`;

/**
 * Node's stdio pipes are socketpairs, which makes a non-interactive bash believe it was started by
 * rshd and source ~/.bashrc (the host's, slow, and not the container's): `--norc` prevents that.
 */
const BASH_FLAGS = ['--norc', '--noprofile', '-c'];

interface Strategy {
  isolation: Isolation;
  /** `unshare …` prefix that creates the namespace. */
  argv: string[];
  /** Whether a user namespace is involved (nsenter must join it too). */
  userns: boolean;
}

export interface SpawnSpec {
  sandboxRoot: string;
  /** Container path to start in. */
  cwd: string;
  command: string;
  env: Record<string, string>;
}

interface Holder {
  child?: ChildProcess;
  ready: Promise<number>;
  released: boolean;
}

/** fstab fields escape whitespace and backslashes as octal. */
function fstabEscape(p: string): string {
  return p.replace(/[\\ \t\n]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

function fstabLine(src: string, dst: string, opt: 'bind' | 'rbind'): string {
  return `${fstabEscape(src)} ${fstabEscape(dst)} none ${opt} 0 0`;
}

function unescapeMount(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function waitReady(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready') && child.pid) resolve(child.pid);
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin?.on('error', () => undefined);
    child.on('error', reject);
    child.on('exit', () => reject(new Error(`could not set up the container namespace: ${err.trim() || 'exited'}`)));
  });
}

export class Isolator {
  private readonly holders = new Map<string, Holder>();

  private skeleton?: Promise<string[]>;

  constructor(
    private readonly strategy: Strategy,
    /** Skeleton root directory (mirrors the host's top level; namespaces mount onto it privately). */
    private readonly rootDir: string,
    /** Probe only: mirror just these host top-level entries (enough to run bash and cat). */
    private readonly only?: string[],
  ) {}

  /**
   * Prepares the skeleton once: owned prefixes and empty plain directories become empty dirs, host
   * symlinks are copied, other directories and files become mount points. Returns fstab lines that
   * rbind the host entries onto it.
   */
  private prepareSkeleton(): Promise<string[]> {
    this.skeleton ??= (async () => {
      const mounted = new Set(
        (await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''))
          .split('\n')
          .map((l) => unescapeMount(l.split(' ')[4] ?? '')),
      );
      await mkdir(this.rootDir, { recursive: true });
      const lines: string[] = [];
      for (const pre of OWNED_PREFIXES) await mkdir(path.join(this.rootDir, pre), { recursive: true });
      for (const name of await readdir('/')) {
        const host = '/' + name;
        if (isOwned(host) || (this.only && !this.only.includes(name))) continue;
        const dst = path.join(this.rootDir, name);
        const st = await lstat(host).catch(() => undefined);
        if (!st) continue;
        if (st.isSymbolicLink()) {
          await symlink(await readlink(host), dst).catch(() => undefined);
        } else if (st.isDirectory()) {
          await mkdir(dst, { recursive: true });
          const empty = (await readdir(host).catch(() => ['?'])).length === 0;
          if (mounted.has(host) || !empty) lines.push(fstabLine(host, dst, 'rbind'));
        } else {
          await writeFile(dst, '', { flag: 'a' });
          lines.push(fstabLine(host, dst, 'bind'));
        }
      }
      return lines;
    })();
    return this.skeleton;
  }

  get isolation(): Isolation {
    return this.strategy.isolation;
  }

  /** HOME as seen by commands. */
  homeFor(sandboxRoot: string): string {
    return this.strategy.isolation === 'namespace' ? CONTAINER_HOME : path.join(sandboxRoot, CONTAINER_HOME);
  }

  /** Converts the working directory a command reported back into a container path. */
  toContainerPath(sandboxRoot: string, reported: string): string {
    if (this.strategy.isolation === 'namespace') return reported;
    const rel = path.relative(sandboxRoot, reported);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return CONTAINER_HOME;
    return '/' + rel;
  }

  /** The pid holding the container's namespace (created on first use). */
  private holder(sandboxRoot: string): Promise<number> {
    const existing = this.holders.get(sandboxRoot);
    if (existing && (!existing.child || (existing.child.exitCode === null && existing.child.signalCode === null))) return existing.ready;
    const h: Holder = { ready: Promise.resolve(0), released: false };
    h.ready = (async () => {
      const lines = [...(await this.prepareSkeleton())];
      for (const pre of OWNED_PREFIXES) lines.push(fstabLine(path.join(sandboxRoot, pre), path.join(this.rootDir, pre), 'bind'));
      const fstab = `${sandboxRoot}.fstab`;
      await writeFile(fstab, lines.join('\n') + '\n');
      if (h.released) throw new Error('namespace released');
      h.child = spawn(this.strategy.argv[0] as string, [...this.strategy.argv.slice(1), 'bash', ...BASH_FLAGS, HOLDER_SCRIPT], {
        cwd: '/',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOODY_SIM_FSTAB: fstab },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      return waitReady(h.child);
    })();
    h.ready.catch(() => undefined);
    this.holders.set(sandboxRoot, h);
    return h.ready;
  }

  /** Builds the container's namespace in the background so the first command does not wait for it. */
  prepare(sandboxRoot: string): void {
    if (this.strategy.isolation === 'namespace') this.holder(sandboxRoot).catch(() => undefined);
  }

  /** Drops a container's namespace (after stop, snapshot restore or delete: the next command rebuilds it). */
  release(sandboxRoot: string): void {
    const h = this.holders.get(sandboxRoot);
    if (!h) return;
    this.holders.delete(sandboxRoot);
    h.released = true;
    h.child?.stdin?.end();
    h.child?.kill('SIGKILL');
  }

  releaseAll(): void {
    for (const root of [...this.holders.keys()]) this.release(root);
  }

  /**
   * Spawns the command in its own process group (`detached`), stdio: stdin pipe, stdout pipe
   * (stdout+stderr merged), stderr pipe (wrapper diagnostics), fd 3 (final cwd).
   */
  async spawn(spec: SpawnSpec): Promise<ChildProcess> {
    const ns = this.strategy.isolation === 'namespace';
    const env: Record<string, string> = {
      ...spec.env,
      HOODY_SIM_CMD: spec.command,
      HOODY_SIM_CWD: ns ? spec.cwd : mapPath(spec.sandboxRoot, spec.cwd),
    };
    const stdio: ['pipe', 'pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe', 'pipe'];
    if (!ns) {
      let cwd = mapPath(spec.sandboxRoot, spec.cwd);
      if (!(await stat(cwd).then((s) => s.isDirectory(), () => false))) cwd = path.join(spec.sandboxRoot, CONTAINER_HOME);
      return spawn('bash', [...BASH_FLAGS, INNER_SCRIPT], { cwd, env, detached: true, stdio });
    }
    const pid = await this.holder(spec.sandboxRoot);
    const join = this.strategy.userns ? ['-U', '--preserve-credentials'] : [];
    return spawn('nsenter', ['-t', String(pid), '-m', ...join, 'chroot', this.rootDir, '/bin/bash', ...BASH_FLAGS, INNER_SCRIPT], {
      cwd: '/',
      env,
      detached: true,
      stdio,
    });
  }
}

async function runOnce(iso: Isolator, sandboxRoot: string, command: string): Promise<string> {
  let child: ChildProcess;
  try {
    child = await iso.spawn({ sandboxRoot, cwd: CONTAINER_HOME, command, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: CONTAINER_HOME } });
  } catch {
    return '';
  }
  return new Promise((resolve) => {
    let out = '';
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.resume();
    child.stdio[3]?.on('error', () => undefined);
    child.on('error', () => {
      clearTimeout(timer);
      resolve('');
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

let probed: Promise<Strategy> | undefined;

/**
 * Finds out once per process whether namespace isolation works here: tries `unshare -m` (root) and
 * `unshare -r -m` (user namespace); each must make a file written into a probe sandbox readable at
 * its container path through `nsenter` + `chroot`. `HOODY_SIM_ISOLATION=cwd` forces the fallback.
 */
export function probeIsolation(): Promise<Strategy> {
  probed ??= (async (): Promise<Strategy> => {
    const fallback: Strategy = { isolation: 'cwd', argv: [], userns: false };
    if (process.platform !== 'linux' || process.env.HOODY_SIM_ISOLATION === 'cwd') return fallback;
    const dir = path.join(tmpdir(), `hoody-sim-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    const box = path.join(dir, 'box');
    const skel = path.join(dir, 'root');
    try {
      await createSandbox(box);
      const secret = randomBytes(8).toString('hex');
      await writeFile(path.join(box, CONTAINER_HOME, 'probe.txt'), secret);
      const candidates: Strategy[] = [];
      if (process.getuid?.() === 0) candidates.push({ isolation: 'namespace', argv: ['unshare', '-m', '--propagation', 'private'], userns: false });
      candidates.push({ isolation: 'namespace', argv: ['unshare', '-r', '-m', '--propagation', 'private'], userns: true });
      for (const strategy of candidates) {
        const iso = new Isolator(strategy, skel, ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc', 'dev']);
        const out = await runOnce(iso, box, 'cat /home/user/probe.txt; echo; pwd');
        iso.releaseAll();
        if (out.trim() === `${secret}\n${CONTAINER_HOME}`) return strategy;
      }
      return fallback;
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  })();
  return probed;
}

export async function createIsolator(rootDir: string): Promise<Isolator> {
  return new Isolator(await probeIsolation(), rootDir);
}
