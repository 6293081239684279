/**
 * N replicas behind one URL, for real: one simulator (in this process, so tests read its state
 * and request log), one redis-server, N processes of the BUILT binary (`--http --redis … --log-format
 * json`, no token of their own: clients send `Authorization: Bearer <sim.token>`), and nginx in
 * front running deploy/nginx.conf — the documented recipe — with only its ports rewritten.
 *
 * Helpers: kill -9 / SIGTERM a replica, read its stderr (JSON log lines), scrape its /metrics,
 * connect the official MCP client through nginx or to one replica directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startSim, type Sim, type SimOptions } from '../../src/sim/index.js';
import { freePort, startRedis, type RedisServer } from './redis.js';
import { clientFor, type Connected, type Era } from './shared.js';

/** The repository root, from test/helpers (vitest) or dist/test/helpers (the compiled bench). */
const ROOT = [fileURLToPath(new URL('../../', import.meta.url)), fileURLToPath(new URL('../../../', import.meta.url))].find((d) =>
  existsSync(path.join(d, 'deploy', 'nginx.conf')),
)!;
export const CLI = path.join(ROOT, 'dist', 'bin', 'cli.js');
export const RECIPE = path.join(ROOT, 'deploy', 'nginx.conf');

const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const healthy = (port: number, p = '/healthz') =>
  fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);

export interface Replica {
  /** 1-based, as in the recipe (replica1…). */
  n: number;
  port: number;
  /** http://127.0.0.1:<port>/mcp */
  url: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  alive(): boolean;
  stderr(): string;
  /** Its stderr lines that parse as JSON objects (--log-format json). */
  logs(): Record<string, unknown>[];
  /** GET /metrics, straight from the replica (the balancer does not expose it). */
  metrics(): Promise<string>;
  kill9(): Promise<number | string>;
  /** SIGTERM; resolves when the signal is sent (await `exited` for the end). */
  term(): void;
}

export async function startReplica(n: number, args: string[], env: Record<string, string> = {}): Promise<Replica> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const port = await freePort();
  const proc = spawn(process.execPath, [CLI, '--http', '--host', '127.0.0.1', '--port', String(port), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => void (err = (err + d.toString()).slice(-4_000_000)));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  let dead = false;
  void exited.then(() => (dead = true));
  await until(`replica ${n} to answer /healthz`, async () => {
    if (dead) throw new Error(`replica ${n} exited: ${err}`);
    return healthy(port);
  });
  return {
    n,
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    proc,
    exited,
    alive: () => !dead,
    stderr: () => err,
    logs: () =>
      err.split('\n').flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    metrics: async () => {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) });
      if (r.status !== 200) throw new Error(`replica ${n} /metrics answered ${r.status}`);
      return r.text();
    },
    kill9: () => {
      if (!dead) proc.kill('SIGKILL');
      return exited;
    },
    term: () => void (dead || proc.kill('SIGTERM')),
  };
}

/**
 * Sum of a Prometheus metric's samples whose labels include `labels` (text exposition format).
 * `name` is the sample name as written (`hoody_mcp_x_total`, `hoody_mcp_y_count`).
 */
export function metric(text: string, name: string | RegExp, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    if (typeof name === 'string' ? m[1] !== name : !name.test(m[1]!)) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** deploy/nginx.conf with its listen port and upstream servers replaced, and temp paths in `dir`. */
export function renderNginx(recipe: string, listenPort: number, upstreamPorts: number[], dir: string): string {
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=10s;`).join('\n');
  let conf = recipe.replace(/^(\s*server replica\d+:8765[^\n]*\n)+/m, `${servers}\n`).replace(/^(\s*)listen 8080;/m, `$1listen 127.0.0.1:${listenPort};`);
  if (conf === recipe || !conf.includes(`127.0.0.1:${upstreamPorts[0]}`) || !conf.includes(`listen 127.0.0.1:${listenPort}`)) {
    throw new Error('deploy/nginx.conf no longer has the `server replicaN:8765` lines and `listen 8080;` the harness rewrites');
  }
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${path.join(dir, t)};`).join('\n');
  conf = conf.replace(/^http \{\n/m, `http {\n${temps}\n`);
  // The recipe logs to /dev/stdout (a container's log); a child's stdout here is a socket nginx cannot open by name.
  conf = conf.replace(/access_log \/dev\/stdout /, `access_log ${path.join(dir, 'access.log')} `);
  // Run as root (CI containers), the workers would switch to `nobody` and could not use `dir`.
  if (process.getuid?.() === 0) conf = `user root;\n${conf}`;
  return conf;
}

export interface Nginx {
  port: number;
  /** http://127.0.0.1:<port>/mcp */
  url: string;
  proc: ChildProcess;
  /** Access log lines so far (written when each request ends). */
  accessLog(): string[];
  stderr(): string;
  stop(): Promise<void>;
}

export async function startNginx(upstreamPorts: number[]): Promise<Nginx> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hoody-nginx-'));
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, t));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, renderNginx(readFileSync(RECIPE, 'utf8'), port, upstreamPorts, dir));
  const proc = spawn('nginx', ['-p', `${dir}/`, '-e', 'stderr', '-c', conf, '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')};`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stdout!.resume();
  proc.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  let dead = false;
  proc.once('error', (e) => ((dead = true), (err += `nginx cannot run (apt-get install nginx): ${e.message}`)));
  proc.once('exit', () => (dead = true));
  await until('nginx to answer', async () => {
    if (dead) throw new Error(`nginx exited: ${err}`);
    return fetch(`http://127.0.0.1:${port}/nothing`).then((r) => r.status === 404, () => false);
  });
  return {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    proc,
    accessLog: () => (existsSync(path.join(dir, 'access.log')) ? readFileSync(path.join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean) : []),
    stderr: () => err,
    stop: async () => {
      if (!dead) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ClusterOptions {
  replicas?: number;
  /** More flags for every replica. */
  args?: string[];
  /** false: no --redis (today's replicas, nothing shared). */
  redis?: boolean;
  sim?: SimOptions;
}

export interface Cluster {
  sim: Sim;
  redis?: RedisServer;
  replicas: Replica[];
  nginx: Nginx;
  /** The official MCP client, through nginx (or another balancer's `url`) or straight to replica `n` (1-based). */
  connect(era: Era, to?: 'lb' | number, headers?: Record<string, string>, url?: string): Promise<Connected>;
  /** Every replica's stderr, concatenated. */
  allLogs(): string;
  /** Where the token shows up: replica logs, nginx's access and error logs (names only, never the text). */
  tokenSeenIn(): string[];
  close(): Promise<void>;
}

/**
 * The admission limits meant for one model's calls (1,200 a minute, 32 at once per credential)
 * would refuse the tests' 30 listeners and the bench's 200 clients, which all share one token.
 */
export const OPEN_LIMITS = ['--rate-limit', '100000000', '--max-concurrency', '1024'];

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const sim = await startSim({ provisionMs: 300, warmupMs: 200, lifecycleMs: 100, ...opts.sim });
  const started: { redis?: RedisServer; replicas: Replica[]; nginx?: Nginx } = { replicas: [] };
  const close = async () => {
    await started.nginx?.stop();
    await Promise.all(started.replicas.map((r) => r.kill9()));
    await started.redis?.stop();
    await sim.close();
  };
  try {
    if (opts.redis !== false) started.redis = await startRedis();
    const args = ['--api-url', sim.apiUrl, '--log-format', 'json', ...OPEN_LIMITS, ...(started.redis ? ['--redis', started.redis.url] : []), ...(opts.args ?? [])];
    started.replicas = await Promise.all(Array.from({ length: opts.replicas ?? 3 }, (_, i) => startReplica(i + 1, args)));
    started.nginx = await startNginx(started.replicas.map((r) => r.port));
  } catch (err) {
    await close();
    throw err;
  }
  const { replicas, nginx, redis } = started as Required<typeof started>;
  return {
    sim,
    redis,
    replicas,
    nginx,
    connect: async (era, to = 'lb', headers = {}, lbUrl = nginx.url) => {
      const url = to === 'lb' ? lbUrl : replicas[to - 1]!.url;
      const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${sim.token}`, ...headers } },
      });
      const client = clientFor(era);
      await client.connect(transport);
      return { client, stderr: () => '', close: () => client.close() };
    },
    allLogs: () => replicas.map((r) => r.stderr()).join('\n'),
    tokenSeenIn: () =>
      [...replicas.map((r) => [`replica ${r.n}`, r.stderr()]), ['nginx access log', nginx.accessLog().join('\n')], ['nginx error log', nginx.stderr()]]
        .filter(([, text]) => text!.includes(sim.token))
        .map(([where]) => where!),
    close,
  };
}
