/**
 * Public types of the embedded Hoody simulator. Everything the rest of the project may rely on is
 * declared here and re-exported from `src/sim/index.ts`.
 */

/**
 * Switches for the places where the seeds contradict each other, so the client's tolerance can be
 * tested against either variant. Mutable at run time (`sim.quirks.listing = 'entries'`).
 */
export interface SimQuirks {
  /** Files dir-listing key: `paths` ([R] DirectoryListing, [R:52718]) or `entries` (skill examples [S:7065]). */
  listing?: 'paths' | 'entries';
  /** Terminal execute/result output field: `stdout` ([S:10045]), `output` ([R:61420]) or both. */
  output?: 'stdout' | 'output' | 'both';
  /** Terminal `/create` response: skill `{status:"ok",terminal_id:"100",shell_ready}` [S:10031] or reference [R:62339]. */
  createShape?: 'skill' | 'reference';
  /** Files PUT/DELETE success bodies: skill `{path,size,success}` [S:6965] or reference with `message` [R:51466]. */
  putShape?: 'skill' | 'reference';
  /** Terminal output uses PTY line endings `\r\n`. */
  crlf?: boolean;
  /**
   * What a body `timeout` that fires reports (undocumented, seed-kits-exec-files.md §10 #1):
   * `completed` = `status:"completed"` with `exit_code:124` (like coreutils `timeout`),
   * `timeout` = `status:"timeout"` with `exit_code:124`.
   */
  timeoutStatus?: 'completed' | 'timeout';
}

export interface SimOptions {
  /** Port to listen on, default 0 (random). */
  port?: number;
  /** Where sandboxes and snapshots live. Default: a fresh mkdtemp dir, removed on close(). */
  dataDir?: string;
  /** Container create: `creating` → `running` (default 2000 ms). */
  provisionMs?: number;
  /** After reaching `running`, kits answer the proxy 502 for this long (default 1000 ms). */
  warmupMs?: number;
  /** start/stop/restart/pause/resume duration; the call answers after it (default 300 ms). */
  lifecycleMs?: number;
  /** Ephemeral terminal results kept after completion (default 300 000 ms, [S:10000]). */
  resultTtlMs?: number;
  /** Pinned terminal sessions reaped after idle with no process; ephemeral sessions evicted (default 300 000 ms). */
  idleReapMs?: number;
  /** How long a graceful (SIGINT) abort waits for the process to end before answering that it still runs (default 1000 ms). */
  abortGraceMs?: number;
  /** Container claim `expires_in` in seconds (default 3600, [R:7625]). */
  claimTtlS?: number;
  /**
   * Default true. False: the deployment has no signing key, so `POST /containers/{id}/authorize`
   * and `GET /meta/public-key` answer 503 `SIGNING_NOT_CONFIGURED` [S:473], [R:2621-2627].
   * Mutable at run time with `sim.agent.setSigning`.
   */
  signing?: boolean;
  /** Default true: one user, one project, one active rental, one running (already warm) container, one hdy_ token. */
  seed?: boolean;
  quirks?: SimQuirks;
}

export interface SimRequestLog {
  at: number;
  method: string;
  /** `api` for the control plane, else the kit slug (`files`, `terminal`, …); `unknown` for unroutable hosts. */
  host: string;
  containerId?: string;
  path: string;
  query: string;
  /** HTTP status sent; 0 when the connection was reset by a fault. */
  status: number;
  /** The request carried a Hoody credential (`Authorization` or `X-Hoody-Token`). */
  credential?: boolean;
  /** Id of the auth token presented (`Authorization: Bearer hdy_…` or `X-Hoody-Token`), never its secret. */
  tokenId?: string;
}

export interface SimExecution {
  containerId: string;
  terminalId: number;
  commandId: string;
  command: string;
  /** Container path the command started in. */
  cwd: string;
  startedAt: number;
  endedAt?: number;
  /** When the kit dropped the result (session reaped, or its TTL passed). */
  forgottenAt?: number;
  exitCode?: number | null;
  status: string;
}

export interface FaultSpec {
  /** `api`, a kit slug (`files`, `terminal`, …) or `*`. */
  target: 'api' | string;
  /** Default: any method. */
  method?: string;
  /** String = prefix of the path; default any. */
  path?: string | RegExp;
  /** e.g. 502, 503, 504, 429, 500. */
  status: number;
  /** How many matching requests it answers before expiring (default 1). */
  times?: number;
  /** Seconds; sets `Retry-After`. */
  retryAfter?: number;
  /**
   * Default: html for 502/503/504 (the proxy page), empty for 429 (files kit quirk), json otherwise.
   * `malformed`: a JSON content type whose body stops mid-value (a proxy that truncated it).
   */
  body?: 'html' | 'empty' | 'json' | 'malformed';
  /** Instead of answering, destroy the socket (connection reset); `mid-body`: after the headers and part of a JSON body. */
  reset?: boolean | 'mid-body';
  /** Answer after a delay (to test timeouts). */
  delayMs?: number;
  /** Run the real handler first (the work happens), then answer with the fault: the answer is lost. */
  afterHandler?: boolean;
}

export interface Faults {
  add(spec: FaultSpec): void;
  clear(): void;
  /** Number of fault answers still armed (sum of remaining `times`). */
  pending(): number;
}

export type ContainerStatus = 'creating' | 'running' | 'stopped' | 'paused' | 'deleting' | 'failed';

/** How terminal commands see the sandbox; see `src/sim/sandbox.ts`. */
export type Isolation = 'namespace' | 'cwd';

export interface Sim {
  port: number;
  /** `http://api.localhost:${port}` */
  apiUrl: string;
  /** The seeded `hdy_` auth token (secret). Empty string when `seed:false`. */
  token: string;
  user: { id: string; username: string; password: string; email: string };
  projectId: string;
  containerId: string;
  containerName: string;
  serverId: string;
  serverName: string;
  rentalId: string;
  /** Mutable at run time (tests flip them). */
  quirks: SimQuirks;
  faults: Faults;
  requests: SimRequestLog[];
  executions: SimExecution[];
  /** `namespace`: commands see the sandbox at the real container paths; `cwd`: only cwd/HOME point into it. */
  isolation: Isolation;
  /** Where a container path lives on the host (for tests to check "the file really changed"). */
  containerPath(containerId: string, absPath: string): string;
  /** The container's sandbox directory on the host (its owned prefixes live below it). */
  sandboxDir(containerId: string): string;
  /** Kit base URL: `http://{P}-{C}-{slug}-{n}.{server_name}.containers.localhost:{port}`. */
  kitUrl(containerId: string, slug: string, n?: number): string;
  /** Force a container status (kills its processes when leaving running/paused); tests only. */
  setContainerStatus(containerId: string, status: ContainerStatus): void;
  /** The agent kit's test handles: scripted turns, the last accepted claim, the claim lifetime. */
  agent: import('./kits/agent/routes.js').SimAgent;
  /** Make the container's kits answer the warm-up 502 for `ms` from now. */
  setWarmup(containerId: string, ms: number): void;
  close(): Promise<void>;
}
