/**
 * What the host router (`src/sim/server.ts`) and a kit agree on. State-independent: it names the
 * container record, never the simulator core, so `state.ts` can hold kits without an import cycle.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContainerRec } from '../records.js';

/** One request on `{P}-{C}-{slug}-{n}.{server}.containers.<domain>`, already routed to a live container. */
export interface KitContext {
  container: ContainerRec;
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Raw (still percent-encoded) path of the request URL. */
  path: string;
  query: URLSearchParams;
  slug: string;
  /** The `-{n}` instance number of the host label. */
  instance: number;
}

/** A kit as the host router and the container lifecycle see it; built by `createKit` (`base.ts`). */
export interface KitRuntime {
  slug: string;
  handle(ctx: KitContext): Promise<void>;
  /** The kit's error body for `status` and `message` (injected faults answer in it). */
  errorBody(status: number, message: string): unknown;
  /** The container's processes must die (stop, restart, restore, delete). */
  onStop?(containerId: string): void;
  /** Freeze (`paused=true`) or thaw the container's processes. */
  onPause?(containerId: string, paused: boolean): void;
  close?(): Promise<void>;
}
