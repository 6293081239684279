/**
 * Kit registry: slug → factory. A slug missing here answers the proxy's HTML 502, like a kit that
 * is not installed; a `family-*` key (e.g. `http-*` for `http-<port>`) serves every slug with that
 * prefix. The host router (`src/sim/server.ts`) never changes.
 *
 * Adding a kit (`browser`, `display`, `agent`/`workspaces`, `daemon`, `sqlite`, `http-*` …):
 * 1. `kits/<slug>/state.ts`: a class with ONE container's state and logic, implementing `KitState`
 *    (`stop()`, optional `pause()` / `close()`); bad input is a thrown `KitError`;
 * 2. `kits/<slug>/routes.ts`: a route table over that state and the factory
 *    `(core) => createKit(core, { slug, service, state: (c) => new XState(core, c), routes, errors })`;
 * 3. one line below. `base.ts` says what the base does for you (health, dispatch, bodies, errors).
 */
import type { SimCore } from '../state.js';
import { createDisplayKit } from './display/routes.js';
import { createBrowserKit } from './browser/routes.js';
import { createAgentKit } from './agent/routes.js';
import { createDaemonKit } from './daemon/routes.js';
import { createFilesKit } from './files/routes.js';
import { createPortProxy } from './http/proxy.js';
import { createSqliteKit } from './sqlite/routes.js';
import { createTerminalKit } from './terminal/routes.js';
import type { KitRuntime } from './types.js';
import { createWatchKit } from './watch/routes.js';
import { createWorkspacesKit } from './workspaces/routes.js';

/** A kit is created once per simulator; it keeps per-container state itself. */
export type KitFactory = (core: SimCore) => KitRuntime;

export const KIT_FACTORIES: Record<string, KitFactory> = {
  terminal: createTerminalKit,
  files: createFilesKit,
  watch: createWatchKit,
  display: createDisplayKit,
  browser: createBrowserKit,
  agent: createAgentKit,
  daemon: createDaemonKit,
  sqlite: createSqliteKit,
  http: (core) => createPortProxy(core, 'http'),
  https: (core) => createPortProxy(core, 'https'),
  workspaces: createWorkspacesKit,
};
