/**
 * --confirm through the built binary, every protocol revision each transport serves: a recursive
 * file_delete asks the person first (2025 sessions: a pushed elicitation; 2026-07-28: an
 * input_required round whose retry carries the answer); a no leaves the files, a yes deletes them.
 * Stateless 2025-era HTTP cannot ask: the call runs and the result says so.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, CLI, ERAS, simFor, startHttpServer, type Era, type HttpServer } from '../helpers/harness.js';

function elicitingClient(era: Era, answers: unknown[], asked: string[]): Client {
  const options =
    era === '2026-07-28'
      ? { versionNegotiation: { mode: { pin: '2026-07-28' } } }
      : { supportedProtocolVersions: era === '2025-06-18' ? ['2025-06-18'] : ['2025-11-25', '2025-06-18'] };
  const client = new Client({ name: 'hoody-mcp-tests', version: '0.0.0' }, { ...options, capabilities: { elicitation: { form: {} } } } as never);
  client.setRequestHandler('elicitation/create', (async (req: { params: { message: string } }) => (asked.push(req.params.message), answers.shift())) as never);
  return client;
}

let sim: Sim;
let http: HttpServer;
beforeAll(async () => {
  sim = await simFor();
  http = await startHttpServer(sim, { args: ['--container', sim.containerId] });
});
afterAll(async () => {
  await http?.close();
  await sim?.close();
});

describe.each(['stdio', 'http'] as const)('%s', (transport) => {
  it.each(ERAS)('a recursive file_delete asks first, %s', async (era) => {
    const dir = `/home/user/confirm-${transport}-${era}`;
    const host = sim.containerPath(sim.containerId, dir);
    mkdirSync(host, { recursive: true });
    writeFileSync(join(host, 'keep.txt'), 'data');
    const asked: string[] = [];
    const client = elicitingClient(era, [{ action: 'decline' }, { action: 'accept', content: { confirm: true } }], asked);
    if (transport === 'stdio') {
      await client.connect(
        new StdioClientTransport({ command: process.execPath, args: [CLI, '--container', sim.containerId], env: { PATH: process.env.PATH ?? '', HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token }, stderr: 'pipe' }),
      );
    } else {
      await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${sim.token}` } } }));
    }
    try {
      const inBand = transport === 'http' && era !== '2026-07-28'; // stateless 2025-era HTTP cannot ask
      if (inBand) {
        const r = await call(client, 'file_delete', { path: dir, recursive: true });
        expect(asked).toEqual([]);
        expect(r.text).toMatch(/^deleted .* \(recursively\)\nNot confirmed: this client cannot ask its user/);
      } else {
        const no = await call(client, 'file_delete', { path: dir, recursive: true });
        expect(no.isError).toBe(true);
        expect(no.text).toMatch(/^not done: the user declined/);
        expect(existsSync(join(host, 'keep.txt'))).toBe(true);
        const yes = await call(client, 'file_delete', { path: dir, recursive: true });
        expect(yes.text).toBe(`deleted ${dir}/ (recursively)`);
        expect(asked).toEqual([`Delete ${dir} and everything in it on the default container?`, `Delete ${dir} and everything in it on the default container?`]);
      }
      expect(existsSync(host)).toBe(false);
    } finally {
      await client.close();
    }
  });
});
