/** Small helpers the bench sections share. */
import { readFileSync } from 'node:fs';

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Resident memory of a process now and at its peak (kB → MB), from /proc (Linux). */
export function rssOf(pid: number): { rss_mb: number; peak_mb: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rss_mb: round(kb('VmRSS') / 1024, 1), peak_mb: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return undefined;
  }
}

/** A tool call as the load benches count it: its latency into `lat`, a failure (thrown or isError) into `errors`. */
export async function timedCall(client: { callTool(c: { name: string; arguments?: Record<string, unknown> }): Promise<unknown> }, call: { name: string; arguments?: Record<string, unknown> }, lat: number[], errors: string[]): Promise<void> {
  const t = performance.now();
  try {
    const r = (await client.callTool(call)) as { isError?: boolean; content: { text?: string }[] };
    if (r.isError) errors.push(`${call.name}: ${r.content[0]?.text ?? ''}`);
  } catch (err) {
    errors.push(`${call.name}: ${(err as Error).message}`);
  }
  lat.push(performance.now() - t);
}
