/**
 * The simulator's records: plain data, no behaviour and no imports beyond the public types, so
 * every module (the world in `state.ts`, the kits, the control plane) can name them without a cycle.
 */
import type { ContainerStatus } from './types.js';

export interface UserRec {
  id: string;
  username: string;
  alias: string;
  email: string;
  password: string;
  created_at: string;
  updated_at: string;
  /** JWTs issued before this instant (ms) are revoked (logout-all [S:2173]). */
  tokensRevokedAt: number;
}

export interface TokenRec {
  id: string;
  token: string;
  user_id: string;
  alias: string;
  ip_whitelist: string[];
  realm_ids: string[];
  allow_no_realm: boolean;
  permissions: Record<string, unknown>;
  public_key: string | null;
  public_storage: Record<string, unknown> | null;
  expires_at: string | null;
  is_enabled: boolean;
  vault_access: boolean;
  event_access: boolean;
  last_used_at: string | null;
  last_used_ip: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProjectRec {
  id: string;
  user_id: string;
  alias: string;
  color: string;
  max_containers: number | null;
  realm_ids: string[];
  created_at: string;
  updated_at: string;
}

export interface RentalRec {
  id: string;
  server_id: string;
  server_name: string;
  user_id: string;
  rental_start: string;
  rental_end: string;
  status: 'active' | 'expired';
  amount: string;
  remaining_days: number;
  pool_id: string | null;
}

export interface SnapshotRec {
  name: string;
  alias: string | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  stateful: false;
  size: number;
}

export interface StatusLogRec {
  id: string;
  container_id: string;
  from_status: string | null;
  to_status: string;
  transition_time: string;
  duration_ms: number;
  triggered_by: string;
  metadata: Record<string, unknown>;
}

export interface ContainerRec {
  id: string;
  user_id: string;
  project_id: string;
  server_id: string;
  server_name: string;
  /** Deliberately different from server_name: never routable [S:423]. */
  subserver_name: string;
  name: string;
  color: string;
  container_image: string;
  ai: boolean;
  hoody_kit: boolean;
  dev_kit: boolean;
  autostart: boolean;
  ramdisk: boolean;
  prespawn: boolean;
  is_default: boolean;
  status: ContainerStatus;
  environment_vars: Record<string, string>;
  ssh_public_key: string | null;
  comment: string | null;
  realm_ids: string[];
  created_at: string;
  updated_at: string;
  snapshots: SnapshotRec[];
  last_used_snapshot: string | null;
  statusLogs: StatusLogRec[];
  /** Kits answer the proxy 502 until this instant (ms) even when running [S:424]. */
  kitsReadyAt: number;
  /** A lifecycle operation is in flight. */
  busy: boolean;
  statusSince: number;
}
