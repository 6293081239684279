/**
 * The one sim-kit base: everything kits share, so a kit is only its own logic and its route table.
 *
 * How a kit plugs in (see `terminal/`, `files/`, `watch/` for complete examples):
 *
 * 1. **A state module** (`kits/<slug>/state.ts`): a class holding ONE container's state and logic
 *    (sessions, watchers, its slice of the sandbox…), implementing {@link KitState}. It knows
 *    nothing of HTTP: bad input is a thrown {@link KitError}.
 * 2. **A routes module** (`kits/<slug>/routes.ts`): a route table (`Route<KitRequest<State>>[]`) whose
 *    handlers parse the request, call into `req.state` and send the kit's documented bodies; and the
 *    kit's factory, `(core) => createKit(core, { slug, service, state, routes, errors })`.
 * 3. **One line** in `kits/index.ts` mapping the slug to that factory.
 *
 * The base then provides: the health route `GET /api/v1/{slug}/health` (the standard 9-field body
 * [seed-kits §0.6]); per-container state, created on first request and stopped with the container
 * (stop, restart, restore, delete), paused with it, closed with the simulator; route-table dispatch
 * with 404/405; `req.json()` (JSON-object bodies, size-bounded: a bad body → the kit's 400, a huge
 * one → 413); and every thrown error → the kit's own error envelope (`errors.body`), since the
 * seeds' kits disagree on it (`{statusCode,error,message}`, `{error,success:false}`,
 * `{code,message,details}`…).
 */
import type { IncomingMessage } from 'node:http';
import { Router, type Match, type Route } from '../router.js';
import type { ContainerRec } from '../records.js';
import type { SimCore } from '../state.js';
import { BadJson, BodyTooLarge, readJsonObject, sendEmpty, sendJson } from '../util.js';
import type { KitContext, KitRuntime } from './types.js';

/** A kit's answer to bad input: `status`, a message, and fields the kit's envelope may use (`code`…). */
export class KitError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** One container's state of one kit. */
export interface KitState {
  /** The container stopped (or is gone): kill its processes, release its resources. */
  stop(): void;
  /** Freeze (`true`) or thaw its processes. */
  pause?(paused: boolean): void;
  /** The simulator closes: like stop, but may wait for processes to exit. Default: stop(). */
  close?(): Promise<void>;
}

/** What a route handler receives: the routed request, the simulator, and this container's state. */
export interface KitRequest<S> extends KitContext {
  core: SimCore;
  state: S;
  /** The body as a JSON object (empty → `{}`); bad JSON → `errors.badJson`, > 8 MiB → 413. */
  json(): Promise<Record<string, unknown>>;
}

export interface KitErrors {
  /** The kit's documented error body for `e`. */
  body(e: KitError): unknown;
  /** A JSON body that does not parse or is not an object (default: 400 `Invalid JSON body`). */
  badJson?(e: BadJson): KitError;
  /** Anything thrown that is not a KitError (fs errors, bugs); default: 500 with its message. */
  fromThrown?(e: unknown): KitError;
  /**
   * Route-table misses: `envelope` (default) answers 404 `Not found` / 405 in the envelope; `bare`
   * answers empty bodies (405 with `Allow`), as axum-based kits do.
   */
  misses?: 'envelope' | 'bare';
}

export interface KitDefinition<S extends KitState> {
  slug: string;
  /** `service` in the health body. */
  service: string;
  /** Default `/api/v1/{slug}/health`. */
  healthPath?: string;
  /** Creates one container's state (on the first request for it). */
  state(container: ContainerRec): S;
  routes: Route<KitRequest<S>>[];
  errors: KitErrors;
}

/** The standard kit health body [seed-kits §0.6]. */
export function healthBody(service: string, started: string, req: IncomingMessage): Record<string, unknown> {
  const mem = process.memoryUsage();
  return {
    status: 'ok', service, built: '2025-01-01T00:00:00Z', started, memory: { rss: mem.rss, heap: mem.heapUsed }, fds: 0,
    pid: process.pid, ip: '127.0.0.1', userAgent: String(req.headers['user-agent'] ?? ''),
  };
}

async function readJson(req: IncomingMessage, errors: KitErrors): Promise<Record<string, unknown>> {
  try {
    return await readJsonObject(req);
  } catch (e) {
    if (e instanceof BodyTooLarge) throw new KitError(413, 'Request body too large');
    if (e instanceof BadJson) throw errors.badJson?.(e) ?? new KitError(400, 'Invalid JSON body');
    throw e;
  }
}

function answerMiss<S>(req: KitRequest<S>, m: Exclude<Match<unknown>, { kind: 'ok' }>, errors: KitErrors): void {
  if (errors.misses === 'bare') {
    if (m.kind === 'method') sendEmpty(req.res, 405, { Allow: m.allowed.join(', ') });
    else sendEmpty(req.res, 404);
    return;
  }
  const e = m.kind === 'method' ? new KitError(405, `Request method is not ${m.allowed[0]}`) : new KitError(404, 'Not found');
  sendJson(req.res, e.status, errors.body(e));
}

function answerError<S>(req: KitRequest<S>, thrown: unknown, errors: KitErrors): void {
  if (req.res.headersSent) {
    // Mid-stream: the status is gone; cut the response so the client sees it incomplete.
    if (!req.res.writableEnded) req.res.destroy();
    return;
  }
  const e = thrown instanceof KitError ? thrown : (errors.fromThrown?.(thrown) ?? new KitError(500, (thrown as Error).message));
  sendJson(req.res, e.status, errors.body(e));
}

/** Builds a kit's runtime from its definition; see the top of this file. */
export function createKit<S extends KitState>(core: SimCore, def: KitDefinition<S>): KitRuntime {
  const started = new Date().toISOString();
  const states = new Map<string, S>();
  const health: Route<KitRequest<S>> = {
    method: 'GET', pattern: def.healthPath ?? `/api/v1/${def.slug}/health`,
    handler: (req) => sendJson(req.res, 200, healthBody(def.service, started, req.req)),
  };
  const router = new Router<KitRequest<S>>([health, ...def.routes]);

  function stateOf(c: ContainerRec): S {
    let s = states.get(c.id);
    if (!s) {
      s = def.state(c);
      states.set(c.id, s);
    }
    return s;
  }

  return {
    slug: def.slug,
    async handle(ctx: KitContext): Promise<void> {
      const req: KitRequest<S> = { ...ctx, core, state: stateOf(ctx.container), json: () => readJson(ctx.req, def.errors) };
      try {
        const m = router.match(ctx.method, ctx.path);
        if (m.kind !== 'ok') return answerMiss(req, m, def.errors);
        await m.handler(req, m.params);
      } catch (e) {
        answerError(req, e, def.errors);
      }
    },
    errorBody: (status, message) => def.errors.body(new KitError(status, message)),
    onStop(containerId: string): void {
      const s = states.get(containerId);
      states.delete(containerId);
      s?.stop();
    },
    onPause(containerId: string, paused: boolean): void {
      states.get(containerId)?.pause?.(paused);
    },
    async close(): Promise<void> {
      await Promise.all([...states.values()].map((s) => (s.close ? s.close() : s.stop())));
      states.clear();
    },
  };
}
