#!/usr/bin/env node
/**
 * hoody-mcp entry: a dispatcher, so each path loads only its own code — the server (main.ts),
 * `install <client>` (install/) or `doctor` (doctor.ts). Only stderr is written to by the server:
 * stdout belongs to the MCP protocol under stdio.
 */
const say = (s: string) => process.stderr.write(`hoody-mcp: ${s}\n`);
const fail = (err: unknown) => {
  say(err instanceof Error ? err.message : String(err));
  process.exit(1);
};
const [sub, ...rest] = process.argv.slice(2);

if (sub === 'install') {
  import('./install/index.js')
    .then(async ({ install, InstallError, INSTALL_USAGE }) => {
      if (!rest.length || rest[0] === '--help' || rest[0] === '-h') return void process.stdout.write(INSTALL_USAGE);
      const { homedir } = await import('node:os');
      try {
        await install(rest, { env: process.env, cwd: process.cwd(), home: process.env.HOME || homedir(), platform: process.platform, out: (s) => process.stdout.write(s) });
      } catch (err) {
        if (!(err instanceof InstallError)) throw err;
        say(err.message);
        process.exit(2);
      }
    })
    .catch(fail);
} else if (sub === 'doctor') {
  import('./doctor.js').then(({ doctorCli }) => doctorCli(rest)).catch(fail);
} else {
  import('./main.js').then(({ main }) => main()).catch(fail);
}
