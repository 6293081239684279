/**
 * User-service URLs: whatever listens on a container port is public at
 * `{P}-{C}-http-<port>.{server}.containers.<domain>` (`https-<port>` when the service speaks TLS
 * itself) [S:344-368]. Unlike kit URLs these are meant to be shared. "Answers" means any HTTP
 * response other than the proxy's own 502 page (nothing listening).
 */
import { header, request } from './http.js';
import { poll } from './streams.js';
import type { Kits } from './kits.js';

export interface PortProbe {
  url: string;
  answers: boolean;
  /** The service's HTTP status, when it answered. */
  httpStatus?: number;
}

export class Ports {
  constructor(private readonly kits: Kits) {}

  async url(containerId: string, port: number, https: boolean, signal?: AbortSignal): Promise<string> {
    const c = await this.kits.resolver.container(containerId, signal);
    return this.kits.resolver.urlFor(c, `${https ? 'https' : 'http'}-${port}`).href;
  }

  /** A probe for a caller that asked about the port: nothing answering in a container that is not running is that error. */
  async check(containerId: string, port: number, https: boolean, signal?: AbortSignal): Promise<PortProbe> {
    const p = await this.probe(containerId, port, https, signal);
    if (p.answers) return p;
    const notRunning = await this.kits.explainUnavailable(containerId, signal);
    if (notRunning) throw notRunning;
    return p;
  }

  /** One GET, no retries: a 502 HTML page (or no connection) means nothing answers yet. */
  async probe(containerId: string, port: number, https: boolean, signal?: AbortSignal): Promise<PortProbe> {
    const url = await this.url(containerId, port, https, signal);
    try {
      const res = await request({ method: 'GET', url: new URL(url), source: `http-${port}`, signal, timeoutMs: 5_000, deadlineMs: 5_000, retry: { attempts: 1 } });
      await res.body.dump().catch(() => undefined);
      const proxy502 = res.status === 502 && (header(res, 'content-type') ?? '').includes('text/html');
      return proxy502 ? { url, answers: false } : { url, answers: true, httpStatus: res.status };
    } catch (e) {
      if (signal?.aborted) throw e;
      return { url, answers: false };
    }
  }
}

export interface ServiceUpdate extends PortProbe {
  /** The service's state (lower case): `running`, `starting`, `exited`, `fatal`… */
  status: string;
}

/** Still worth waiting on: the service is starting, running, or between restarts. */
export const isAlive = (status: string) => /start|run|backoff/.test(status);

/**
 * A just-started service until its port answers or it dies, as updates (probe + state), ending
 * at `until`: the wait a `port` start does.
 */
export async function* untilAnswers(
  ports: Ports,
  state: (signal: AbortSignal) => Promise<string>,
  containerId: string,
  port: number,
  opts: { until: number; signal: AbortSignal },
): AsyncGenerator<ServiceUpdate> {
  const updates = poll({
    read: async (sg) => {
      const probe = await ports.probe(containerId, port, false, sg);
      return { ...probe, status: probe.answers ? 'running' : await state(sg) };
    },
    interval: (i) => Math.min(1000, 100 * 2 ** i),
    until: opts.until,
    signal: opts.signal,
    source: 'daemon',
  });
  for await (const u of updates) {
    yield u;
    if (u.answers || !isAlive(u.status)) return;
  }
}
