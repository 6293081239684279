/**
 * hoody-mcp install <client>: write hoody-mcp into an MCP client's own configuration file (or
 * print it). Loaded only for this subcommand. Idempotent; other servers and keys are left as they
 * are; the write is atomic and the first one keeps a .bak of the file it replaced.
 */
import { chmod, copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CLIENTS, clientIds, type Client, type Place, type Scope, type Want } from './clients.js';
import { InstallError, mergeJson, mergeToml, tomlBlock, type Merged } from './merge.js';

export { InstallError };

export interface Io {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
  platform: NodeJS.Platform;
  out(s: string): void;
}

interface Opts {
  client: Client;
  print: boolean;
  remote?: string;
  name: string;
  scope: Scope;
  file?: string;
  command?: string;
  serverArgs: string[];
}

export const INSTALL_USAGE = `Usage: hoody-mcp install <client> [--print] [--remote URL] [--name N] [--scope S] [--file PATH] [-- server flags]
clients: ${clientIds.join(', ')}
  --print        show the entry and the file it goes in; write nothing
  --remote URL   a hosted hoody-mcp (streamable HTTP) instead of npx -y hoody-mcp
  --name N       server name in the client (default hoody)
  --scope S      user (default), project, or local (claude-code: this directory only)
  --file PATH    write this file instead of the client's usual one
  --command P    start P (with the flags after --) instead of npx -y hoody-mcp, e.g. a checkout's node
  -- …           flags for the server, e.g. -- --toolsets all --container web
The token is taken from HOODY_TOKEN in the client's environment, not written (except Claude Desktop).
`;

function parseArgs(argv: string[]): Opts {
  const [id, ...rest] = argv;
  const client = CLIENTS.find((c) => c.id === id);
  if (!client) throw new InstallError(id ? `unknown client "${id}" (one of: ${clientIds.join(', ')})` : `name a client: ${clientIds.join(', ')}`);
  const o: Opts = { client, print: false, name: 'hoody', scope: 'user', serverArgs: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') {
      o.serverArgs = rest.slice(i + 1);
      break;
    }
    if (a === '--print') {
      o.print = true;
      continue;
    }
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (!['--remote', '--name', '--scope', '--file', '--command'].includes(flag)) throw new InstallError(`unknown argument "${a}" (see hoody-mcp install --help)`);
    const v = inline ?? rest[++i];
    if (!v) throw new InstallError(`${flag} needs a value`);
    if (flag === '--remote') o.remote = v;
    else if (flag === '--name') o.name = v;
    else if (flag === '--file') o.file = v;
    else if (flag === '--command') o.command = v;
    else o.scope = v as Scope;
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.name)) throw new InstallError(`--name "${o.name.slice(0, 80)}" must be 1-64 letters, digits, "-" or "_"`);
  if (!client.scopes.includes(o.scope)) throw new InstallError(`${client.label} has no "${o.scope}" scope (use ${client.scopes.join(' or ')})`);
  if (o.remote !== undefined) {
    if (client.noRemote) throw new InstallError(client.noRemote);
    let u: URL;
    try {
      u = new URL(o.remote);
    } catch {
      throw new InstallError(`--remote "${o.remote.slice(0, 200)}" is not a URL (e.g. https://mcp.example.com/mcp)`);
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new InstallError('--remote must be https:// (http:// only for localhost)');
    if (u.username || u.password) throw new InstallError('--remote must not carry credentials; the token comes from HOODY_TOKEN');
    if (o.serverArgs.length || o.command) throw new InstallError('--command and server flags after -- apply to a local install only');
    o.remote = u.href;
  }
  for (const a of o.serverArgs) if (/^--token(=|$)/.test(a)) throw new InstallError('do not pass --token: the server reads HOODY_TOKEN from the environment');
  return o;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InstallError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Atomic: write a sibling temp file with the old mode (0600 for a new file), then rename over. */
async function writeAtomic(file: string, text: string, existed: boolean, secret: boolean): Promise<string | undefined> {
  await mkdir(dirname(file), { recursive: true });
  let backup: string | undefined;
  let mode = 0o600;
  if (existed) {
    mode = (await stat(file)).mode & 0o777;
    const bak = `${file}.bak`;
    if ((await readText(bak)) === undefined) {
      await copyFile(file, bak);
      backup = bak;
    }
  }
  if (secret) mode &= 0o700;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
  return backup;
}

function snippet(o: Opts, entry: Record<string, unknown>, at: string[]): string {
  if (o.client.format === 'toml') return tomlBlock(o.name, entry);
  const wrap = at.reduceRight<unknown>((inner, k) => ({ [k]: inner }), { [o.name]: entry });
  return JSON.stringify(wrap, null, 2);
}

export async function install(argv: string[], io: Io): Promise<void> {
  const o = parseArgs(argv);
  const place: Place = { home: io.home, cwd: io.cwd, env: io.env, platform: io.platform };
  const file = o.file ? resolve(io.cwd, o.file) : o.client.file(o.scope, place);
  const at = o.client.at(o.scope, place);
  const token = o.client.noRemote && !o.print ? io.env.HOODY_TOKEN : undefined;
  const want: Want = { name: o.name, remote: o.remote, token, local: o.remote ? undefined : o.command ? { command: o.command, args: o.serverArgs } : { command: 'npx', args: ['-y', 'hoody-mcp', ...o.serverArgs] } };
  const entry = o.client.entry(want);
  if (o.print) {
    io.out(`# ${o.client.label}: ${file}${o.client.id === 'claude-code' && o.scope === 'local' ? ` (under projects["${io.cwd}"])` : ''}\n`);
    io.out(`${snippet(o, entry, at)}\n# token: ${o.client.token}\n`);
    return;
  }
  const before = await readText(file);
  const merged: Merged = o.client.format === 'toml' ? mergeToml(before ?? '', o.name, entry, file) : mergeJson(before ?? '', at, o.name, entry, file);
  const where = `${file}${o.scope === 'local' ? ` (for ${io.cwd})` : ''}`;
  if (!merged.changed) {
    io.out(`${o.client.label}: "${o.name}" is already installed in ${where}; nothing changed.\n`);
    return;
  }
  const backup = await writeAtomic(file, merged.text, before !== undefined, !!token);
  io.out(
    `${o.client.label}: ${merged.replaced ? 'updated' : 'added'} "${o.name}" (${o.remote ? `remote ${o.remote}` : (o.command ?? 'npx -y hoody-mcp')}) in ${where}` +
      `${backup ? `; previous file kept as ${backup}` : ''}.\nToken: ${o.client.token}.\n` +
      (o.client.noRemote && !token ? 'HOODY_TOKEN is not set here: set it and rerun, or add env.HOODY_TOKEN in the file.\n' : '') +
      `Restart ${o.client.label} to load it.\n`,
  );
}
