/**
 * Each MCP client's own configuration: where it lives per scope, its format, and the entry for
 * hoody-mcp in that client's schema. The token is never written where the client can hand it
 * over from the environment instead (interpolation, env passthrough or bearer_token_env_var).
 */
import { join } from 'node:path';

export type Format = 'json' | 'toml';
export type Scope = 'user' | 'project' | 'local';

export interface Place {
  home: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
}

export interface Want {
  name: string;
  /** stdio: the command line; remote: the URL */
  local?: { command: string; args: string[] };
  remote?: string;
  /** only for a client that cannot read the environment (Claude Desktop) */
  token?: string;
}

export interface Client {
  id: string;
  label: string;
  format: Format;
  scopes: Scope[];
  file(scope: Scope, p: Place): string;
  /** JSON path of the servers object in the file (the entry goes under it, by name) */
  at(scope: Scope, p: Place): string[];
  entry(w: Want): Record<string, unknown>;
  /** one line: where the token comes from */
  token: string;
  /** why --remote is refused, when it is */
  noRemote?: string;
}

const HOODY_ENV = ['HOODY_TOKEN', 'HOODY_API_URL', 'HOODY_REALM', 'HOODY_CONTAINER'];

function appData(p: Place): string {
  if (p.platform === 'darwin') return join(p.home, 'Library', 'Application Support');
  if (p.platform === 'win32') return p.env.APPDATA ?? join(p.home, 'AppData', 'Roaming');
  return p.env.XDG_CONFIG_HOME || join(p.home, '.config');
}

const bearer = (ref: string) => ({ Authorization: `Bearer ${ref}` });

export const CLIENTS: Client[] = [
  {
    id: 'claude-code',
    label: 'Claude Code',
    format: 'json',
    scopes: ['user', 'project', 'local'],
    file: (s, p) => (s === 'project' ? join(p.cwd, '.mcp.json') : join(p.env.CLAUDE_CONFIG_DIR || p.home, '.claude.json')),
    at: (s, p) => (s === 'local' ? ['projects', p.cwd, 'mcpServers'] : ['mcpServers']),
    entry: (w) =>
      w.remote
        ? { type: 'http', url: w.remote, headers: bearer('${HOODY_TOKEN}') }
        : { type: 'stdio', command: w.local!.command, args: w.local!.args, env: {} },
    token: 'stdio servers inherit HOODY_TOKEN from the environment Claude Code runs in; remote: ${HOODY_TOKEN} is expanded',
  },
  {
    id: 'codex',
    label: 'Codex',
    format: 'toml',
    scopes: ['user', 'project'],
    file: (s, p) => (s === 'project' ? join(p.cwd, '.codex', 'config.toml') : join(p.env.CODEX_HOME || join(p.home, '.codex'), 'config.toml')),
    at: () => ['mcp_servers'],
    entry: (w) =>
      w.remote ? { url: w.remote, bearer_token_env_var: 'HOODY_TOKEN' } : { command: w.local!.command, args: w.local!.args, env_vars: HOODY_ENV },
    token: 'env_vars passes HOODY_TOKEN (and HOODY_API_URL, HOODY_REALM, HOODY_CONTAINER) through; remote: bearer_token_env_var',
  },
  {
    id: 'opencode',
    label: 'opencode',
    format: 'json',
    scopes: ['user', 'project'],
    file: (s, p) => (s === 'project' ? join(p.cwd, 'opencode.json') : join(p.env.XDG_CONFIG_HOME || join(p.home, '.config'), 'opencode', 'opencode.json')),
    at: () => ['mcp'],
    entry: (w) =>
      w.remote
        ? { type: 'remote', url: w.remote, headers: bearer('{env:HOODY_TOKEN}'), enabled: true }
        : { type: 'local', command: [w.local!.command, ...w.local!.args], environment: { HOODY_TOKEN: '{env:HOODY_TOKEN}' }, enabled: true },
    token: '{env:HOODY_TOKEN} is substituted by opencode',
  },
  {
    id: 'gemini',
    label: 'Gemini CLI',
    format: 'json',
    scopes: ['user', 'project'],
    file: (s, p) => join(s === 'project' ? p.cwd : p.home, '.gemini', 'settings.json'),
    at: () => ['mcpServers'],
    entry: (w) =>
      w.remote
        ? { httpUrl: w.remote, headers: bearer('$HOODY_TOKEN') }
        : { command: w.local!.command, args: w.local!.args, env: { HOODY_TOKEN: '$HOODY_TOKEN' } },
    token: '$HOODY_TOKEN is expanded by Gemini CLI (which hides token-like variables from servers unless named in env)',
  },
  {
    id: 'cursor',
    label: 'Cursor',
    format: 'json',
    scopes: ['user', 'project'],
    file: (s, p) => join(s === 'project' ? p.cwd : p.home, '.cursor', 'mcp.json'),
    at: () => ['mcpServers'],
    entry: (w) =>
      w.remote
        ? { url: w.remote, headers: bearer('${env:HOODY_TOKEN}') }
        : { command: w.local!.command, args: w.local!.args, env: { HOODY_TOKEN: '${env:HOODY_TOKEN}' } },
    token: '${env:HOODY_TOKEN} is interpolated by Cursor (start Cursor from a shell that has it)',
  },
  {
    id: 'vscode',
    label: 'VS Code',
    format: 'json',
    scopes: ['user', 'project'],
    file: (s, p) => (s === 'project' ? join(p.cwd, '.vscode', 'mcp.json') : join(appData(p), 'Code', 'User', 'mcp.json')),
    at: () => ['servers'],
    entry: (w) =>
      w.remote
        ? { type: 'http', url: w.remote, headers: bearer('${env:HOODY_TOKEN}') }
        : { type: 'stdio', command: w.local!.command, args: w.local!.args, env: { HOODY_TOKEN: '${env:HOODY_TOKEN}' } },
    token: '${env:HOODY_TOKEN} is resolved by VS Code',
  },
  {
    id: 'claude-desktop',
    label: 'Claude Desktop',
    format: 'json',
    scopes: ['user'],
    file: (_s, p) => join(appData(p), 'Claude', 'claude_desktop_config.json'),
    at: () => ['mcpServers'],
    entry: (w) => ({ command: w.local!.command, args: w.local!.args, ...(w.token ? { env: { HOODY_TOKEN: w.token } } : {}) }),
    token: 'Claude Desktop neither inherits the shell environment nor interpolates: the token is written into the file (mode 600)',
    noRemote: 'Claude Desktop adds remote servers in Settings → Connectors → Add custom connector (URL only); install it locally instead',
  },
];

export const clientIds = CLIENTS.map((c) => c.id);
