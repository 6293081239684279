/**
 * /metrics: Prometheus text through prom-client (loaded only under --http, on start), fed by the
 * `observe` hooks the layers emit. Labels are bounded: tool names come from the catalogue, kit
 * slugs are checked against a shape and capped in number, statuses are HTTP codes. Never an id, a
 * path or a URL.
 */
import { attach, type CallEvent, type Gauge, type UpstreamEvent } from '../observe.js';

export interface Metrics {
  contentType: string;
  text(): Promise<string>;
  /** One HTTP request answered (route from a fixed set). */
  request(route: string, status: number): void;
  close(): void;
}

/** At most this many distinct kit labels; later ones count as `other`. */
const MAX_SOURCES = 64;
const ROUTES = new Set(['/mcp', '/healthz', '/readyz', '/metrics']);

const statusLabel = (s: number | undefined) => (s !== undefined && Number.isInteger(s) && s >= 100 && s <= 599 ? String(s) : 'none');

export async function startMetrics(tools: readonly string[]): Promise<Metrics> {
  const m = await import('prom-client');
  // prom-client is CommonJS: bundled, its dynamic import yields { default: exports }.
  const prom = ('Registry' in m ? m : (m as unknown as { default: typeof m }).default) as typeof import('prom-client');
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: 'hoody_mcp_' });
  const known = new Set(tools);
  const sources = new Set<string>();
  const source = (s: string) => {
    const slug = /^https?-\d{1,5}$/.test(s) ? 'http-port' : /^[a-z][a-z0-9-]{0,31}$/.test(s) ? s : 'other';
    if (sources.has(slug) || sources.size < MAX_SOURCES) return sources.add(slug), slug;
    return 'other';
  };
  const r = { registers: [registry] };
  const calls = new prom.Counter({ ...r, name: 'hoody_mcp_tool_calls_total', help: 'Tool calls by tool, transport and outcome', labelNames: ['tool', 'transport', 'outcome'] });
  const latency = new prom.Histogram({
    ...r,
    name: 'hoody_mcp_tool_call_duration_seconds',
    help: 'Tool call latency by tool and transport',
    labelNames: ['tool', 'transport'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  const upstreamErrors = new prom.Counter({ ...r, name: 'hoody_mcp_upstream_errors_total', help: 'Failed requests to Hoody by kit (or api) and status', labelNames: ['source', 'status'] });
  const retries = new prom.Counter({ ...r, name: 'hoody_mcp_upstream_retries_total', help: 'Requests to Hoody retried, by kit (or api) and status', labelNames: ['source', 'status'] });
  const requests = new prom.Counter({ ...r, name: 'hoody_mcp_http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['route', 'status'] });
  const gauges: Record<Gauge, import('prom-client').Gauge> = {
    streams: new prom.Gauge({ ...r, name: 'hoody_mcp_http_streams', help: 'HTTP response streams open (GET SSE, subscriptions/listen)' }),
    subscriptions: new prom.Gauge({ ...r, name: 'hoody_mcp_subscriptions', help: 'Resource subscriptions held' }),
    watchers: new prom.Gauge({ ...r, name: 'hoody_mcp_upstream_watchers', help: 'Upstream watchers (watch kit streams) this replica holds' }),
  };
  const detach = attach({
    call(e: CallEvent) {
      const tool = known.has(e.tool) ? e.tool : 'other';
      calls.inc({ tool, transport: e.transport, outcome: e.outcome });
      latency.observe({ tool, transport: e.transport }, e.ms / 1000);
    },
    upstream(e: UpstreamEvent) {
      (e.kind === 'retry' ? retries : upstreamErrors).inc({ source: source(e.source), status: statusLabel(e.status) });
    },
    gauge(name: Gauge, delta: number) {
      gauges[name]?.inc(delta);
    },
  });
  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    request: (route, status) => requests.inc({ route: ROUTES.has(route) ? route : 'other', status: statusLabel(status) }),
    close: () => {
      detach();
      registry.clear();
    },
  };
}
