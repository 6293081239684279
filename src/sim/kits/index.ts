/**
 * Kit registry: slug → factory. Adding a kit (`watch`, `daemon`, `browser`, `display`, `agent`/
 * `workspaces`, `sqlite`, `http-<port>` …) = one file in this folder exporting a {@link KitFactory}
 * plus one line here; the host router (`src/sim/server.ts`) never changes. A slug missing here
 * answers the proxy's HTML 502, like a kit that is not installed.
 */
import { createFilesKit } from './files.js';
import { createTerminalKit } from './terminal.js';
import type { KitFactory } from './types.js';
import { createWatchKit } from './watch.js';

export const KIT_FACTORIES: Record<string, KitFactory> = {
  terminal: createTerminalKit,
  files: createFilesKit,
  watch: createWatchKit,
};

export type { KitContext, KitFactory } from './types.js';
