/** The watch kit's shared vocabulary: limits, event and config shapes, cursors. */
import { KitError } from '../base.js';

/**
 * Hard limits [S:10848] and stream timings. Read at request/creation time, so a test may lower them
 * (and must restore them); they are not part of the wire contract.
 */
export const WATCH_LIMITS = {
  maxWatchers: 128,
  maxPaths: 32,
  maxClients: 64,
  historyEvents: 100_000,
  historyBytes: 16 * 1024 * 1024,
  /** SSE comment keepalive interval [S:837]. */
  keepaliveMs: 10_000,
  /** An SSE client whose unsent backlog exceeds this gets `event: lag` and is closed. */
  lagBytes: 4 * 1024 * 1024,
  /** Entries indexed when a watcher starts (beyond: no baseline, deeper dirs unwatched). */
  maxScan: 100_000,
};

export const DEFAULT_IGNORE_DIRS = [
  'node_modules', '.git', 'target', '__pycache__', '.hg', '.svn', '.cache', 'dist', '.next', '.nuxt', 'vendor', 'bower_components',
]; // [S:10847]

export const KINDS = ['created', 'modified', 'removed', 'renamed', 'metadata', 'overflow', 'other'] as const;
export type Kind = (typeof KINDS)[number];

export interface WatchEvent {
  id: number;
  watcher_id: string;
  kind: Kind;
  path: string;
  timestamp: string;
  is_dir: boolean;
  new_size_bytes: number | null;
  old_size_bytes: number | null;
  old_path: string | null;
  details: string | null;
}

/** An event before it gets an id: what a flush found, plus the path relative to its watched root. */
export type RawEvent = Omit<WatchEvent, 'id' | 'watcher_id' | 'timestamp' | 'details'> & { rel: string };

/** A watched path: the container path as requested (normalised) and its symlink-resolved host path. */
export interface Root {
  path: string;
  host: string;
  file: boolean;
}

export interface Config {
  paths: string[];
  recursive: boolean;
  include: string[];
  exclude: string[];
  ignore_dirs: string[];
  kinds: Kind[] | null;
  coalesce_ms: number;
  history_size: number;
  history_limit_bytes: number;
}

export type Cursor = { kind: 'none' } | { kind: 'id'; id: number; raw: number } | { kind: 'ts'; ms: number; raw: string };

/** The kit's errors are `{code, message, details}` [S:10855-10866]. */
export function watchError(status: number, code: string, message: string, details: string | null = null): KitError {
  return new KitError(status, message, { code, details });
}

/** 400 INVALID_REQUEST with JSON-encoded details naming the reason. */
export function invalid(reason: string, message: string, extra: Record<string, unknown> = {}): KitError {
  return watchError(400, 'INVALID_REQUEST', message, JSON.stringify({ reason, ...extra }));
}
