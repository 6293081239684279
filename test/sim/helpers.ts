/** HTTP helpers for the simulator suites: real requests to 127.0.0.1 with an explicit Host header. */
import http from 'node:http';
import type { Sim } from '../../src/sim/index.js';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface ReqOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Abort the request after this many ms (rejects with 'timeout'). */
  timeoutMs?: number;
}

export function request(port: number, host: string, method: string, path: string, opts: ReqOptions = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: host, ...opts.headers };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      if (typeof opts.body !== 'string' && !Buffer.isBuffer(opts.body)) headers['Content-Type'] ??= 'application/json';
    }
    const r = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (opts.timeoutMs) r.setTimeout(opts.timeoutMs, () => r.destroy(new Error('timeout')));
    if (payload) r.write(payload);
    r.end();
  });
}

export function hostOf(url: string): string {
  return new URL(url).host;
}

/** Control-plane client bound to a sim. */
export function api(sim: Sim, token: string | null = sim.token, host = hostOf(sim.apiUrl)) {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> =>
    request(sim.port, host, method, path, { body, headers: token === null ? headers : { Authorization: `Bearer ${token}`, ...headers } });
}

/** Kit client for one container. */
export function kit(sim: Sim, slug: string, containerId = sim.containerId) {
  const host = hostOf(sim.kitUrl(containerId, slug));
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> =>
    request(sim.port, host, method, path, { body, headers });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns something truthy and returns that: the way these suites wait for an
 * observable condition instead of sleeping a fixed time. Fails after `timeoutMs`.
 */
export async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`until: the condition did not hold within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
