/**
 * hoody-mcp entry: flags/env → Config; --sim starts the embedded simulator; then stdio or --http.
 * Only stderr is written to: stdout belongs to the MCP protocol under stdio.
 */
import { userInfo } from 'node:os';
import { parseConfig, usage, type Config } from './config.js';
import { ConfigError } from './mcp/registry.js';
import { allTools } from '../tools/index.js';
import { toolsFor } from './server.js';
import { VERSION } from './version.js';

let say = (s: string) => void process.stderr.write(`hoody-mcp: ${s}\n`);

/** --log-format json: the start and stop lines as JSON too (the log module is loaded only then). */
async function jsonSay(): Promise<void> {
  const { writeLine } = await import('./transports/log.js');
  say = (s) => void writeLine('info', s);
}

async function startSimulator(config: Config): Promise<() => Promise<void>> {
  const { startSim } = await import('./sim/index.js');
  const sim = await startSim({});
  config.apiUrl = sim.apiUrl;
  config.token ??= sim.token;
  config.container ??= sim.containerName;
  config.realm = undefined;
  say(
    `simulator at ${sim.apiUrl}: project ${sim.projectId}, container "${sim.containerName}" (${sim.containerId}) running, ` +
      `default container set. Commands run for real as ${userInfo().username} inside ${sim.sandboxDir(sim.containerId)} ` +
      `(${sim.isolation === 'namespace' ? 'container paths bind-mounted in a private mount namespace' : 'no mount namespace: only relative paths and the sandbox home map'}).`,
  );
  return () => sim.close();
}

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
    toolsFor(config); // unknown tool or toolset names fail here, at start
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      process.exit(2);
    }
    throw err;
  }
  if (config.help) {
    process.stdout.write(usage(new Set(allTools.map((t) => t.toolset)), VERSION));
    return;
  }
  if (config.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }

  if (config.logFormat === 'json') await jsonSay();
  const cleanups: (() => Promise<void>)[] = [];
  let stopping = false;
  let drain: ((ms: number) => Promise<void>) | undefined;
  const stop = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    if (drain) {
      say(`SIGTERM: draining (up to ${config.drainS} s)`);
      await drain(config.drainS * 1000).catch(() => undefined);
    }
    for (const c of cleanups.reverse()) await c().catch(() => undefined); // the transport first: its calls may still cancel remote work
    if (drain) say('drained, stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void ((drain = undefined), stop(130)));
  // Over HTTP, SIGTERM is a rolling restart's "stop": drain, then exit 0.
  process.on('SIGTERM', () => void stop(drain ? 0 : 143));

  if (config.sim) cleanups.push(await startSimulator(config));
  if (config.redis) {
    try {
      const { openShared } = await import('./core/shared.js');
      const shared = (config.shared = await openShared(config.redis));
      const { releaseShared } = await import('./core/hoody.js');
      // One key for input_required round states on every replica: a round's retry may reach another.
      const { shareStateKey } = await import('./mcp/state-key.js');
      await shareStateKey(shared);
      // Run last (draining calls may still use the store): first every watch lease is released (and
      // groups already leaving finish), so another replica takes them at once; then the store closes.
      cleanups.unshift(() => releaseShared().then(() => shared.close()));
    } catch (err) {
      say(err instanceof Error ? err.message : String(err));
      await stop(2);
    }
  }

  if (config.http) {
    const { startHttp } = await import('./transports/http.js');
    try {
      const h = await startHttp(config);
      cleanups.push(() => h.close());
      drain = (ms) => h.drain(ms);
      say(`serving streamable HTTP at ${h.url} (health: /healthz, readiness: /readyz, metrics: /metrics)`);
    } catch (err) {
      say(err instanceof Error ? err.message : String(err));
      await stop(2);
    }
  } else {
    const { startStdio } = await import('./transports/stdio.js');
    const s = startStdio(config);
    cleanups.push(() => s.close());
    // The client closing stdin ends the session; with --sim the simulator would keep us alive.
    process.stdin.on('end', () => void stop(0));
    process.stdin.on('close', () => void stop(0));
  }
}
