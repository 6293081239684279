/** The simulator's control plane read directly (as the truth a tool's answer is checked against). */
import type { Sim } from '../../src/sim/index.js';

export async function simApi<T = unknown>(sim: Sim, path: string, token = sim.token): Promise<T> {
  // 127.0.0.1 routes to the control plane (api.localhost needs the core's own resolver).
  const res = await fetch(`http://127.0.0.1:${sim.port}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { data: T };
  if (!res.ok) throw new Error(`simulator ${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

export interface SimContainer {
  id: string;
  name: string;
  status: string;
  project_id: string;
  server_name: string;
}

export const simContainer = (sim: Sim, id: string) => simApi<SimContainer>(sim, `/api/v1/containers/${id}`);

export async function simContainers(sim: Sim): Promise<SimContainer[]> {
  const data = await simApi<SimContainer[] | { containers: SimContainer[] }>(sim, '/api/v1/containers/');
  return Array.isArray(data) ? data : data.containers;
}

export async function simStatusLogs(sim: Sim, id: string): Promise<{ from_status: string; to_status: string; metadata: { command?: string } }[]> {
  return (await simApi<{ logs: { from_status: string; to_status: string; metadata: { command?: string } }[] }>(sim, `/api/v1/containers/${id}/status-logs?limit=100`)).logs;
}

/**
 * Run `fn` as soon as the simulator has answered a request matching `match` (its answer is
 * already on the wire, the caller's next request not yet sent): a deterministic "meanwhile".
 * Returns the undo. Works in-process only (the simulator logs into this process's array).
 */
export function afterSimRequest(sim: Sim, match: (q: Sim['requests'][number]) => boolean, fn: () => void): () => void {
  const log = sim.requests;
  const push = log.push;
  log.push = function (this: typeof log, ...items) {
    const n = push.apply(this, items);
    for (const q of items) if (match(q)) fn();
    return n;
  };
  return () => {
    Reflect.deleteProperty(log, 'push'); // back to Array.prototype.push
  };
}
