/**
 * Flags ⇄ env → Config. Every flag has a HOODY_* twin; a flag beats its twin; booleans accept
 * 1|true|yes (and 0|false|no); lists are comma-separated.
 */
import { TOOLSETS } from '../tools/toolsets.js';
import { CONFIRM_MODES, type ConfirmMode } from './mcp/confirm.js';
import { ConfigError, defaultToolsets } from './mcp/registry.js';
import type { Shared } from './core/shared.js';

export interface Config {
  token?: string;
  apiUrl: string;
  realm?: string;
  container?: string;
  toolsets: string[];
  tools?: string[];
  excludeTools?: string[];
  readOnly: boolean;
  http: boolean;
  port: number;
  host: string;
  allowedHosts: string[];
  sim: boolean;
  /** Limits (see FLAGS): bytes of one HTTP body, one stdio message, one call's arguments as JSON. */
  maxBodyBytes: number;
  maxMessageBytes: number;
  maxArgBytes: number;
  /** Tool calls one credential may have running at once, and start per minute. */
  maxConcurrency: number;
  rateLimit: number;
  /** Calls that cannot be undone: ask the person first (run unasked where the client cannot ask), never ask, or always refuse. */
  confirm: ConfirmMode;
  /** Hosting several replicas: the shared store's URL, the log format, how long SIGTERM lets calls finish. */
  redis?: string;
  logFormat: 'text' | 'json';
  drainS: number;
  /** The shared store opened from `redis` at start (runtime, not a flag). */
  shared?: Shared;
  help: boolean;
  version: boolean;
}

export const DEFAULT_TOOLSETS = defaultToolsets(TOOLSETS);
const EXTRA_TOOLSETS = TOOLSETS.filter((s) => !s.default).map((s) => s.id);

type Kind = 'string' | 'bool' | 'list' | 'port' | 'bytes' | 'count';
interface Flag {
  flag: string;
  env?: string;
  kind: Kind;
  key: keyof Config;
  help: string;
  /** Shown in --help on one shared line with the rest of its group (the README has the details). */
  group?: string;
}

export const FLAGS: Flag[] = [
  { flag: '--token', env: 'HOODY_TOKEN', kind: 'string', key: 'token', help: 'hdy_… auth token or login JWT' },
  { flag: '--api-url', env: 'HOODY_API_URL', kind: 'string', key: 'apiUrl', help: 'control plane (default https://api.hoody.icu)' },
  { flag: '--realm', env: 'HOODY_REALM', kind: 'string', key: 'realm', help: 'realm id: https://{realm}.api.<domain>' },
  { flag: '--container', env: 'HOODY_CONTAINER', kind: 'string', key: 'container', help: 'default container (id or name)' },
  { flag: '--toolsets', env: 'HOODY_TOOLSETS', kind: 'list', key: 'toolsets', help: 'toolsets to offer (below; "all" = every one)' },
  { flag: '--tools', env: 'HOODY_TOOLS', kind: 'list', key: 'tools', help: 'offer only these tools' },
  { flag: '--exclude-tools', env: 'HOODY_EXCLUDE_TOOLS', kind: 'list', key: 'excludeTools', help: 'never offer these tools' },
  { flag: '--read-only', env: 'HOODY_READ_ONLY', kind: 'bool', key: 'readOnly', help: 'offer only tools that change nothing' },
  { flag: '--http', env: 'HOODY_MCP_HTTP', kind: 'bool', key: 'http', help: 'serve streamable HTTP at /mcp, not stdio' },
  { flag: '--port', env: 'HOODY_MCP_PORT', kind: 'port', key: 'port', help: 'HTTP port (default 8765)', group: 'http' },
  { flag: '--host', env: 'HOODY_MCP_HOST', kind: 'string', key: 'host', help: 'HTTP bind address (default 127.0.0.1)', group: 'http' },
  { flag: '--allowed-hosts', env: 'HOODY_MCP_ALLOWED_HOSTS', kind: 'list', key: 'allowedHosts', help: 'extra Host names it answers (mcp.example.com)', group: 'http' },
  { flag: '--redis', env: 'HOODY_REDIS_URL', kind: 'string', key: 'redis', help: 'share state across replicas (redis://host:6379)', group: 'http' },
  { flag: '--log-format', env: 'HOODY_LOG_FORMAT', kind: 'string', key: 'logFormat', help: 'text (default) or json: one line per request', group: 'http' },
  { flag: '--drain-s', env: 'HOODY_DRAIN_S', kind: 'count', key: 'drainS', help: 'on SIGTERM, seconds calls get to finish (default 25)', group: 'http' },
  { flag: '--max-body-bytes', env: 'HOODY_MAX_BODY_BYTES', kind: 'bytes', key: 'maxBodyBytes', help: 'largest HTTP request body (default 10m; k/m suffixes)', group: 'limits' },
  { flag: '--max-message-bytes', env: 'HOODY_MAX_MESSAGE_BYTES', kind: 'bytes', key: 'maxMessageBytes', help: 'largest stdio message (default 10m)', group: 'limits' },
  { flag: '--max-arg-bytes', env: 'HOODY_MAX_ARG_BYTES', kind: 'bytes', key: 'maxArgBytes', help: "largest tool call's arguments as JSON (default 8m)", group: 'limits' },
  { flag: '--max-concurrency', env: 'HOODY_MAX_CONCURRENCY', kind: 'count', key: 'maxConcurrency', help: 'tool calls one credential may run at once (default 32)', group: 'limits' },
  { flag: '--rate-limit', env: 'HOODY_RATE_LIMIT', kind: 'count', key: 'rateLimit', help: 'tool calls one credential may start per minute (default 1200)', group: 'limits' },
  { flag: '--confirm', env: 'HOODY_CONFIRM', kind: 'string', key: 'confirm', help: 'irreversible calls: ask, never, always-refuse' },
  { flag: '--sim', env: 'HOODY_SIM', kind: 'bool', key: 'sim', help: 'start the embedded Hoody simulator, use it' },
  { flag: '--help', kind: 'bool', key: 'help', help: 'this help; the version' },
  { flag: '--version', kind: 'bool', key: 'version', help: 'print the version' },
];

function parseBool(v: string, where: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off|)$/i.test(v)) return false;
  throw new ConfigError(`${where}: "${v}" is not a boolean (use 1|true|yes or 0|false|no)`);
}

function convert(f: Flag, raw: string, where: string): unknown {
  switch (f.kind) {
    case 'bool':
      return parseBool(raw, where);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'bytes': {
      const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(raw.trim());
      const n = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()) : NaN;
      if (!Number.isSafeInteger(n) || n < 1024) throw new ConfigError(`${where}: "${raw}" is not a size of at least 1k (e.g. 512k, 10m)`);
      return n;
    }
    case 'count': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${where}: "${raw}" is not a positive whole number`);
      return n;
    }
    case 'port': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${where}: "${raw}" is not a port`);
      return n;
    }
    default:
      if (!raw.trim()) throw new ConfigError(`${where} needs a value`);
      return raw.trim();
  }
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const values: Partial<Record<keyof Config, unknown>> = {};
  for (const f of FLAGS) {
    const v = f.env ? env[f.env] : undefined;
    if (v !== undefined && v !== '') values[f.key] = convert(f, v, f.env!);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const f = FLAGS.find((x) => x.flag === name);
    if (!f) throw new ConfigError(`unknown argument "${arg}" (see --help)`);
    if (f.kind === 'bool') {
      values[f.key] = inline === undefined ? true : parseBool(inline, f.flag);
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new ConfigError(`${f.flag} needs a value`);
    values[f.key] = convert(f, raw, f.flag);
  }
  const cfg: Config = {
    apiUrl: 'https://api.hoody.icu',
    toolsets: DEFAULT_TOOLSETS,
    readOnly: false,
    http: false,
    port: 8765,
    host: '127.0.0.1',
    allowedHosts: [],
    sim: false,
    maxBodyBytes: 10 * 1024 * 1024,
    maxMessageBytes: 10 * 1024 * 1024,
    maxArgBytes: 8 * 1024 * 1024,
    maxConcurrency: 32,
    rateLimit: 1200,
    confirm: 'ask',
    logFormat: 'text',
    drainS: 25,
    help: false,
    version: false,
    ...(values as Partial<Config>),
  };
  try {
    const u = new URL(cfg.apiUrl);
    if (!/^https?:$/.test(u.protocol)) throw new Error();
  } catch {
    throw new ConfigError(`--api-url "${cfg.apiUrl}" is not an http(s) URL`);
  }
  if (!(CONFIRM_MODES as readonly string[]).includes(cfg.confirm)) throw new ConfigError(`--confirm "${cfg.confirm}" is not one of ${CONFIRM_MODES.join(', ')}`);
  if (cfg.logFormat !== 'text' && cfg.logFormat !== 'json') throw new ConfigError(`--log-format "${cfg.logFormat}" is not text or json`);
  if (cfg.redis && !/^rediss?:\/\/[^\s]+$/.test(cfg.redis)) throw new ConfigError('--redis is not a redis:// or rediss:// URL');
  if (cfg.realm && !/^[0-9a-f]{24}$/.test(cfg.realm)) throw new ConfigError(`--realm "${cfg.realm}" is not a 24-character hex realm id`);
  return cfg;
}

/** --help: one screen (≤ 24 lines × 100 columns; the README has the details). `built` names the toolsets with tools. */
export function usage(built: ReadonlySet<string>, version: string): string {
  const arg: Partial<Record<Kind, string>> = { string: ' V', list: ' a,b', port: ' N' };
  // A group shares one line (the defaults and suffixes are in the README).
  const groups = [...new Set(FLAGS.flatMap((f) => f.group ?? []))];
  const rows = FLAGS.filter((f) => f.flag !== '--version' && f.flag !== '--help' && !f.group).map((f) => {
    const flag = `${f.flag}${arg[f.kind] ?? ''}`;
    return `  ${flag.padEnd(20)}${(f.env ?? '').padEnd(24)} ${f.help}`;
  });
  const mark = (id: string) => `${id}${built.has(id) ? '' : '*'}`;
  return [
    `hoody-mcp ${version} — MCP server for Hoody containers (--help, --version; details: README.md)`,
    'Usage: hoody-mcp [flags]            serve MCP on stdio (--http: streamable HTTP)',
    '       hoody-mcp install <client>   write a client\'s MCP config (install --help: clients)',
    '       hoody-mcp doctor             check the token, the API and a container\'s kits',
    '',
    `  ${'flag'.padEnd(20)}env (a flag beats it)`,
    ...rows,
    ...groups.map((g) => `  ${g}: ${FLAGS.filter((f) => f.group === g).map((f) => f.flag).join(' ')}`),
    '',
    `Toolsets (default): ${DEFAULT_TOOLSETS.map(mark).join(' ')}`,
    `  only with --toolsets all or by name: ${EXTRA_TOOLSETS.map(mark).join(' ')}`,
    ...(TOOLSETS.some((s) => !built.has(s.id)) ? ['  * not in this version yet'] : []),
    '',
  ].join('\n');
}
