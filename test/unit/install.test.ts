/**
 * hoody-mcp install <client>, on each client's real configuration format: a fixture holding other
 * servers and unrelated keys (and comments, for the JSONC clients) stays intact; a re-run changes
 * nothing; --print writes nothing; --remote; the token is never written where the client can read
 * it from the environment.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser/lib/esm/main.js';
import { parse as parseToml } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { install, InstallError, type Io } from '../../src/install/index.js';

let root: string;
let io: Io;
let printed: string;
const TOKEN = 'hdy_secret_token_value_123';

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'install-'));
  printed = '';
  io = {
    env: { HOODY_TOKEN: TOKEN },
    home: join(root, 'home'),
    cwd: join(root, 'proj'),
    platform: 'linux',
    out: (s) => void (printed += s),
  };
  mkdirSync(io.cwd, { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const put = (file: string, text: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};
const json = (file: string) => parseJsonc(readFileSync(file, 'utf8')) as Record<string, any>;

interface Case {
  client: string;
  file: (io: Io) => string;
  fixture: string;
  servers: (doc: any) => Record<string, any>;
  /** the unrelated part of the fixture that must survive */
  kept: (doc: any) => unknown;
  local: Record<string, unknown>;
  remote: Record<string, unknown>;
}

const others = { command: 'uvx', args: ['other-server'], env: { KEY: 'v' } };
const jsonFixture = (key: string, extra = '') =>
  `{\n  // user comment kept\n  "theme": "dark",\n  "${key}": {\n    "other": ${JSON.stringify(others)}\n  }${extra}\n}\n`;

const cases: Case[] = [
  {
    client: 'claude-code',
    file: (io) => join(io.home, '.claude.json'),
    fixture: `{"numStartups": 12, "mcpServers": {"other": ${JSON.stringify(others)}}, "projects": {"/x": {"mcpServers": {}}}}`,
    servers: (d) => d.mcpServers,
    kept: (d) => [d.numStartups, d.projects],
    local: { type: 'stdio', command: 'npx', args: ['-y', 'hoody-mcp'], env: {} },
    remote: { type: 'http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${HOODY_TOKEN}' } },
  },
  {
    client: 'opencode',
    file: (io) => join(io.home, '.config', 'opencode', 'opencode.json'),
    fixture: jsonFixture('mcp', ',\n  "model": "anthropic/claude"'),
    servers: (d) => d.mcp,
    kept: (d) => [d.theme, d.model],
    local: { type: 'local', command: ['npx', '-y', 'hoody-mcp'], environment: { HOODY_TOKEN: '{env:HOODY_TOKEN}' }, enabled: true },
    remote: { type: 'remote', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer {env:HOODY_TOKEN}' }, enabled: true },
  },
  {
    client: 'gemini',
    file: (io) => join(io.home, '.gemini', 'settings.json'),
    fixture: jsonFixture('mcpServers', ',\n  "general": {"vimMode": true}'),
    servers: (d) => d.mcpServers,
    kept: (d) => [d.theme, d.general],
    local: { command: 'npx', args: ['-y', 'hoody-mcp'], env: { HOODY_TOKEN: '$HOODY_TOKEN' } },
    remote: { httpUrl: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer $HOODY_TOKEN' } },
  },
  {
    client: 'cursor',
    file: (io) => join(io.home, '.cursor', 'mcp.json'),
    fixture: jsonFixture('mcpServers'),
    servers: (d) => d.mcpServers,
    kept: (d) => d.theme,
    local: { command: 'npx', args: ['-y', 'hoody-mcp'], env: { HOODY_TOKEN: '${env:HOODY_TOKEN}' } },
    remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${env:HOODY_TOKEN}' } },
  },
  {
    client: 'vscode',
    file: (io) => join(io.home, '.config', 'Code', 'User', 'mcp.json'),
    fixture: jsonFixture('servers', ',\n  "inputs": [{"type": "promptString", "id": "k", "password": true}]'),
    servers: (d) => d.servers,
    kept: (d) => d.inputs,
    local: { type: 'stdio', command: 'npx', args: ['-y', 'hoody-mcp'], env: { HOODY_TOKEN: '${env:HOODY_TOKEN}' } },
    remote: { type: 'http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${env:HOODY_TOKEN}' } },
  },
];

const codexFixture = `# my codex config
model = "gpt-5"

[mcp_servers.other]
command = "uvx"
args = ["other-server"]

[mcp_servers.other.env]
KEY = "v"

[profiles.fast]
model = "gpt-5-mini"
`;

describe.each(cases)('install $client', (c) => {
  it('adds the entry, keeps other servers, keys and comments, keeps a .bak, and a re-run changes nothing', async () => {
    const file = c.file(io);
    put(file, c.fixture);
    const before = json(file);
    await install([c.client], io);
    const doc = json(file);
    expect(c.servers(doc).hoody).toEqual(c.local);
    expect(c.servers(doc).other).toEqual(others);
    expect(c.kept(doc)).toEqual(c.kept(before));
    if (c.fixture.includes('//')) expect(readFileSync(file, 'utf8')).toContain('// user comment kept');
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(c.fixture);
    expect(readFileSync(file, 'utf8')).not.toContain(TOKEN);
    const text = readFileSync(file, 'utf8');
    const mtime = statSync(file).mtimeMs;
    printed = '';
    await install([c.client], io);
    expect(printed).toMatch(/already installed/);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(statSync(file).mtimeMs).toBe(mtime);
  });

  it('--remote writes the URL and takes the bearer token from the environment', async () => {
    const file = c.file(io);
    put(file, c.fixture);
    await install([c.client, '--remote', 'https://mcp.example.com/mcp'], io);
    expect(c.servers(json(file)).hoody).toEqual(c.remote);
    expect(c.servers(json(file)).other).toEqual(others);
    expect(readFileSync(file, 'utf8')).not.toContain(TOKEN);
  });

  it('--print writes nothing and shows the entry', async () => {
    await install([c.client, '--print'], io);
    expect(existsSync(c.file(io))).toBe(false);
    expect(printed).toContain(c.file(io));
    expect(printed).toContain('"hoody"');
  });
});

describe('install codex (TOML)', () => {
  const file = () => join(io.home, '.codex', 'config.toml');
  it('adds [mcp_servers.hoody] with env passthrough, keeps everything else, and a re-run changes nothing', async () => {
    put(file(), codexFixture);
    await install(['codex'], io);
    const text = readFileSync(file(), 'utf8');
    const doc = parseToml(text) as Record<string, any>;
    expect({ ...doc.mcp_servers.hoody }).toEqual({ command: 'npx', args: ['-y', 'hoody-mcp'], env_vars: ['HOODY_TOKEN', 'HOODY_API_URL', 'HOODY_REALM', 'HOODY_CONTAINER'] });
    expect(text.startsWith(codexFixture.trimEnd())).toBe(true);
    expect(text).not.toContain(TOKEN);
    printed = '';
    await install(['codex'], io);
    expect(printed).toMatch(/already installed/);
    expect(readFileSync(file(), 'utf8')).toBe(text);
  });
  it('--remote replaces only its own tables (bearer_token_env_var), sub-tables included', async () => {
    put(file(), `${codexFixture}\n[mcp_servers.hoody]\ncommand = "old"\n\n[mcp_servers.hoody.env]\nX = "1"\n\n[tail]\nk = 1\n`);
    await install(['codex', '--remote=https://mcp.example.com/mcp'], io);
    const doc = parseToml(readFileSync(file(), 'utf8')) as Record<string, any>;
    expect({ ...doc.mcp_servers.hoody }).toEqual({ url: 'https://mcp.example.com/mcp', bearer_token_env_var: 'HOODY_TOKEN' });
    expect(doc.mcp_servers.other.env.KEY).toBe('v');
    expect(doc.tail.k).toBe(1);
    expect(doc.profiles.fast.model).toBe('gpt-5-mini');
    expect(printed).toMatch(/updated/);
  });
  it('refuses to edit an entry written in a form it does not own, leaving the file as it was', async () => {
    const odd = `mcp_servers.hoody.command = "x"\n`;
    put(file(), odd);
    await expect(install(['codex'], io)).rejects.toThrow(/does not edit/);
    expect(readFileSync(file(), 'utf8')).toBe(odd);
  });
});

describe('install claude-code scopes, claude-desktop, hostile input', () => {
  it('--scope local writes under projects[cwd]; --scope project writes .mcp.json', async () => {
    put(join(io.home, '.claude.json'), cases[0]!.fixture);
    await install(['claude-code', '--scope', 'local'], io);
    const doc = json(join(io.home, '.claude.json'));
    expect(doc.projects[io.cwd].mcpServers.hoody.command).toBe('npx');
    expect(doc.projects['/x']).toEqual({ mcpServers: {} });
    expect(doc.mcpServers.hoody).toBeUndefined();
    await install(['claude-code', '--scope=project', '--name', 'hoody-sim', '--', '--sim'], io);
    expect(json(join(io.cwd, '.mcp.json')).mcpServers['hoody-sim'].args).toEqual(['-y', 'hoody-mcp', '--sim']);
  });
  it('claude-desktop writes the token (it cannot read the environment) into a 0600 file, and --print never shows it', async () => {
    const file = join(io.home, '.config', 'Claude', 'claude_desktop_config.json');
    put(file, `{"mcpServers": {"other": ${JSON.stringify(others)}}, "globalShortcut": "Ctrl+Space"}`);
    await install(['claude-desktop', '--print'], io);
    expect(printed).not.toContain(TOKEN);
    await install(['claude-desktop'], io);
    const doc = json(file);
    expect(doc.mcpServers.hoody.env.HOODY_TOKEN).toBe(TOKEN);
    expect(doc.globalShortcut).toBe('Ctrl+Space');
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(printed).not.toContain(TOKEN);
    await expect(install(['claude-desktop', '--remote', 'https://mcp.example.com/mcp'], io)).rejects.toThrow(/Connectors/);
  });
  it.each([
    [['nope'], /unknown client/],
    [[], /name a client/],
    [['cursor', '--name', '../../etc'], /--name/],
    [['cursor', '--name', 'a'.repeat(65)], /--name/],
    [['cursor', '--scope', 'local'], /no "local" scope/],
    [['cursor', '--remote', 'http://evil.example.com/mcp'], /https/],
    [['cursor', '--remote', 'https://u:p@x.example.com/'], /credentials/],
    [['cursor', '--remote', 'not a url'], /not a URL/],
    [['cursor', '--', '--token', 'x'], /HOODY_TOKEN/],
    [['cursor', '--bogus'], /unknown argument/],
  ])('refuses %j', async (argv, msg) => {
    await expect(install(argv as string[], io)).rejects.toThrow(InstallError);
    await expect(install(argv as string[], io)).rejects.toThrow(msg);
  });
  it('refuses a broken file, or servers that are not an object, without touching it', async () => {
    const file = join(io.home, '.cursor', 'mcp.json');
    for (const bad of ['{"mcpServers": {', '[1,2]', '{"mcpServers": [1]}']) {
      put(file, bad);
      await expect(install(['cursor'], io)).rejects.toThrow(InstallError);
      expect(readFileSync(file, 'utf8')).toBe(bad);
    }
  });
});
