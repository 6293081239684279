/**
 * User-service URLs: whatever listens on a container port is public at
 * `{P}-{C}-http-<port>.{server}.containers.<domain>` (`https-<port>` when the service speaks TLS
 * itself) [S:344-368]. Unlike kit URLs these are meant to be shared. "Answers" means any HTTP
 * response other than the proxy's own 502 page (nothing listening).
 */
import { header, request } from './http.js';
import type { KitResolver } from './kits.js';

export interface PortProbe {
  url: string;
  answers: boolean;
  /** The service's HTTP status, when it answered. */
  status?: number;
}

export class Ports {
  constructor(private readonly resolver: KitResolver) {}

  async url(containerId: string, port: number, https: boolean, signal?: AbortSignal): Promise<string> {
    const c = await this.resolver.container(containerId, signal);
    return this.resolver.urlFor(c, `${https ? 'https' : 'http'}-${port}`).href;
  }

  /** One GET, no retries: a 502 HTML page (or no connection) means nothing answers yet. */
  async probe(containerId: string, port: number, https: boolean, signal?: AbortSignal): Promise<PortProbe> {
    const url = await this.url(containerId, port, https, signal);
    try {
      const res = await request({ method: 'GET', url: new URL(url), source: `http-${port}`, signal, timeoutMs: 5_000, deadlineMs: 5_000, retry: { attempts: 1 } });
      await res.body.dump().catch(() => undefined);
      const proxy502 = res.status === 502 && (header(res, 'content-type') ?? '').includes('text/html');
      return proxy502 ? { url, answers: false } : { url, answers: true, status: res.status };
    } catch (e) {
      if (signal?.aborted) throw e;
      return { url, answers: false };
    }
  }
}
