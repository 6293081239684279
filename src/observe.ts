/**
 * What the operations view (Prometheus metrics, structured logs) hears from the layers: tool
 * calls from the MCP shell, upstream errors and retries from the core's HTTP client, gauges of
 * what is held open. Knows nothing of MCP or Hoody; does nothing until a sink is attached
 * (`--http` attaches the metrics), so stdio pays one empty loop per event.
 */
export type Gauge = 'watchers' | 'streams' | 'subscriptions';

export interface CallEvent {
  tool: string;
  transport: 'stdio' | 'http';
  ms: number;
  outcome: 'ok' | 'error' | 'refused' | 'cancelled';
}

export interface UpstreamEvent {
  /** The kit or `api` that answered (HoodyError.source). */
  source: string;
  kind: 'error' | 'retry';
  status?: number;
}

export interface Sink {
  call?(e: CallEvent): void;
  upstream?(e: UpstreamEvent): void;
  gauge?(name: Gauge, delta: number): void;
}

const sinks: Sink[] = [];

/** Attach a sink; returns its detach. */
export function attach(sink: Sink): () => void {
  sinks.push(sink);
  return () => void sinks.splice(sinks.indexOf(sink) >>> 0, 1);
}

export const observe = {
  call(e: CallEvent): void {
    for (const s of sinks) s.call?.(e);
  },
  upstream(e: UpstreamEvent): void {
    for (const s of sinks) s.upstream?.(e);
  },
  gauge(name: Gauge, delta: number): void {
    for (const s of sinks) s.gauge?.(name, delta);
  },
};
