/** What a kit handler receives for one request on `{P}-{C}-{slug}-{n}.{server}.containers.<domain>`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContainerRec, KitRuntime, SimCore } from '../state.js';

export interface KitContext {
  core: SimCore;
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

/** A kit is created once per simulator; it keeps per-container state itself. */
export type KitFactory = (core: SimCore) => KitRuntime;
