/**
 * Resource subscriptions: each subscribed URI is matched against the templates that can watch,
 * watched while anyone subscribes (reference-counted), and every change is reported through
 * `notify`. Who subscribes and how the notification travels is the caller's business:
 * resources/subscribe on a 2025-era connection, or the URIs of a 2026-07-28 subscriptions/listen.
 */
import { UriTemplate } from '@modelcontextprotocol/server';
import { plainErrors, type DescribeError } from './result.js';
import type { ResourceDefinition } from './define-resource.js';
import { observe } from '../observe.js';

export interface Subscriptions {
  /** Start watching (or count one more subscriber); rejects when the URI cannot be watched. */
  add(uri: string): Promise<void>;
  remove(uri: string): void;
  /** Stop everything. */
  close(): void;
}

export function createSubscriptions<D>(
  resources: readonly ResourceDefinition<D>[],
  deps: () => D,
  notify: (uri: string) => void,
  describeError?: DescribeError,
): Subscriptions {
  const watching = new Map<string, { ac: AbortController; refs: number }>();
  const templates = resources.filter((r) => r.subscribe && r.uri.includes('{')).map((r) => ({ r, t: new UriTemplate(r.uri) }));
  return {
    async add(uri) {
      const w = watching.get(uri);
      if (w) return void ((w.refs += 1), observe.gauge('subscriptions', 1));
      for (const { r, t } of templates) {
        const vars = t.match(uri);
        if (!vars) continue;
        const flat = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]));
        const entry = { ac: new AbortController(), refs: 1 };
        watching.set(uri, entry);
        observe.gauge('subscriptions', 1); // counted from now: a remove() while it starts takes it back
        const ctx = {
          get deps() {
            return deps();
          },
          signal: entry.ac.signal,
        };
        try {
          await plainErrors(r.subscribe!(new URL(uri), flat, ctx, () => notify(uri)), describeError);
        } catch (err) {
          if (watching.get(uri) === entry) watching.delete(uri), observe.gauge('subscriptions', -entry.refs); // the refs not removed yet
          entry.ac.abort();
          throw err;
        }
        return;
      }
      throw new Error(`${uri} cannot be subscribed to — only ${templates.map(({ r }) => r.uri).join(', ')} can`);
    },
    remove(uri) {
      const w = watching.get(uri);
      if (!w) return;
      observe.gauge('subscriptions', -1);
      if (--w.refs > 0) return;
      w.ac.abort();
      watching.delete(uri);
    },
    close() {
      for (const w of watching.values()) w.ac.abort(), observe.gauge('subscriptions', -w.refs);
      watching.clear();
    },
  };
}
