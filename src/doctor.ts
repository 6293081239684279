/**
 * hoody-mcp doctor: is this setup able to work? Checks, in order, the token, the API, the token
 * against the control plane, one container, and that container's terminal and files kits; prints
 * what works and, for what does not, what to do. Never prints a secret (the token, kit URLs).
 * Exit code 0 when everything works, 1 otherwise.
 */
import { parseConfig, type Config } from './config.js';
import { HoodyError } from './core/errors.js';
import { hoodyFor, type Hoody } from './core/hoody.js';
import type { Container } from './core/control.js';
import { ConfigError } from './mcp/registry.js';
import { VERSION } from './version.js';

type Line = (ok: boolean | 'skip', what: string, says: string) => void;

const DEADLINE_MS = 8_000;
const opts = () => ({ signal: AbortSignal.timeout(DEADLINE_MS) });

/** A URL for display: scheme and host only (no credentials, no path). */
const shown = (u: string) => {
  const x = new URL(u);
  return `${x.protocol}//${x.host}`;
};

const reason = (err: unknown) => (err instanceof HoodyError ? `${err.message}${err.status ? ` (HTTP ${err.status})` : ''}` : err instanceof Error ? err.message : String(err));

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, Math.round(performance.now() - t)];
}

/** The API and the token against it; undefined when nothing further can be checked. */
async function checkApi(h: Hoody, config: Config, line: Line): Promise<Container[] | undefined> {
  const api = shown(h.control.base.href);
  try {
    const [containers, ms] = await timed(() => h.control.listContainers(opts()));
    line(true, 'API', `${api} answers (${ms} ms)`);
    line(true, 'auth', `token accepted: ${containers.length} container${containers.length === 1 ? '' : 's'} visible`);
    return containers;
  } catch (err) {
    const kind = err instanceof HoodyError ? err.kind : 'network';
    if (kind === 'auth' || kind === 'forbidden') {
      line(true, 'API', `${api} answers`);
      line(false, 'auth', `token refused (${reason(err)}): make a new hdy_… token in Hoody and set HOODY_TOKEN`);
    } else {
      line(false, 'API', `${api} does not answer (${reason(err)}): check --api-url/HOODY_API_URL${config.realm ? ', --realm' : ''} and the network`);
    }
    return undefined;
  }
}

async function checkContainer(h: Hoody, config: Config, all: Container[], line: Line): Promise<Container | undefined> {
  let c: Container | undefined;
  try {
    c = config.container ? await h.container(config.container, opts().signal) : (all.find((x) => x.status === 'running') ?? all[0]);
  } catch (err) {
    line(false, 'container', `"${config.container}": ${reason(err)}: pass an existing id or name with --container`);
    return undefined;
  }
  if (!c) {
    line('skip', 'container', 'none in this account: create one, then rerun to check its kits');
    return undefined;
  }
  const which = `${c.name} (${c.id})`;
  const other = config.container ? '' : ' (--container checks another)';
  if (c.status !== 'running') {
    line(false, 'container', `${which} is ${c.status}: ${c.status === 'paused' ? 'resume' : 'start'} it, then rerun${other}`);
    return undefined;
  }
  line(true, 'container', `${which} is running${other}`);
  return c;
}

async function checkKit(h: Hoody, id: string, kit: 'terminal' | 'files', line: Line): Promise<boolean> {
  try {
    const [res, ms] = await timed(() => h.kits.request(id, kit, { method: 'GET', path: `/api/v1/${kit}/health`, ...opts(), deadlineMs: DEADLINE_MS }));
    await res.body.dump().catch(() => undefined);
    if (res.status !== 200) throw new HoodyError({ kind: 'server', status: res.status, source: kit, message: `the ${kit} kit answered ${res.status}` });
    line(true, kit, `kit answers (${ms} ms)`);
    return true;
  } catch (err) {
    line(false, kit, `${reason(err)}: restart the container; if it persists, the kit is down on Hoody's side`);
    return false;
  }
}

export async function doctor(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  let failed = 0;
  const line: Line = (ok, what, says) => {
    if (ok === false) failed++;
    out(`${ok === true ? '✓' : ok === false ? '✗' : '–'} ${what.padEnd(10)} ${says}\n`);
  };
  out(`hoody-mcp ${VERSION} doctor\n`);
  let config: Config;
  try {
    config = parseConfig(argv, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    line(false, 'flags', err.message);
    return 1;
  }
  if (!config.token) {
    line(false, 'token', 'not set: set HOODY_TOKEN (an hdy_… token from Hoody) or pass --token');
    return 1;
  }
  line(true, 'token', `set (${argv.some((a) => a.startsWith('--token')) ? '--token' : 'HOODY_TOKEN'}; not shown)`);
  let h: Hoody;
  try {
    h = hoodyFor({ apiUrl: config.apiUrl, realm: config.realm, defaultContainer: config.container }, config.token);
  } catch (err) {
    line(false, 'API', `${reason(err)}: check --api-url/HOODY_API_URL`);
    return 1;
  }
  const all = await checkApi(h, config, line);
  const c = all && (await checkContainer(h, config, all, line));
  if (c) for (const kit of ['terminal', 'files'] as const) await checkKit(h, c.id, kit, line);
  out(failed ? `${failed} problem${failed === 1 ? '' : 's'} found.\n` : 'All checks passed.\n');
  return failed ? 1 : 0;
}

export async function doctorCli(argv: string[]): Promise<void> {
  const code = await doctor(argv, process.env, (s) => process.stdout.write(s));
  process.exit(code);
}
