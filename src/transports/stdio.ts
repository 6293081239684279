/** stdio: one client, its credential from the configuration. */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Config } from '../config.js';
import { createServer } from '../server.js';

export function startStdio(config: Config): { close(): Promise<void> } {
  return serveStdio(() => createServer(config, { token: config.token }, { remote: false }), {
    onerror: (err) => process.stderr.write(`hoody-mcp: ${err.message}\n`),
  });
}
