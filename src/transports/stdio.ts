/** stdio: one client, its credential from the configuration. */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Config } from '../config.js';
import { createServer } from '../server.js';

export function startStdio(config: Config): { close(): Promise<void> } {
  // A 2025-era connection carries unsolicited notifications, so it can offer resource
  // subscriptions; a 2026-07-28 one routes them through subscriptions/listen, which the SDK
  // serves without telling the instance what is subscribed (not offered yet).
  return serveStdio(({ era }) => createServer(config, { token: config.token }, { remote: false, subscriptions: era === 'legacy' }), {
    // Out-of-band protocol errors (e.g. a malformed line from the client): one short line each.
    onerror: (err) => process.stderr.write(`hoody-mcp: ${err.message.replace(/\s+/g, ' ').slice(0, 200)}\n`),
  });
}
