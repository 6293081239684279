/**
 * Agent gates through the built binary in every protocol revision each transport serves: a
 * question asked of the person through elicitation (2025 sessions: a pushed elicitation; 2026-07-28:
 * an input_required round whose retry carries the answer and continues the turn), and in-band
 * where the client cannot be asked (stateless 2025-era HTTP, or a client without elicitation).
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, CLI, ERAS, simFor, startHttpServer, type Era, type HttpServer } from '../helpers/harness.js';

function elicitingClient(era: Era, answers: string[]): Client {
  const options =
    era === '2026-07-28'
      ? { versionNegotiation: { mode: { pin: '2026-07-28' } } }
      : { supportedProtocolVersions: era === '2025-06-18' ? ['2025-06-18'] : ['2025-11-25', '2025-06-18'] };
  const client = new Client({ name: 'hoody-mcp-tests', version: '0.0.0' }, { ...options, capabilities: { elicitation: { form: {} } } } as never);
  client.setRequestHandler('elicitation/create', (async (req: { params: { message: string } }) => {
    answers.push(req.params.message);
    return { action: 'accept', content: { answer: 'blue' } };
  }) as never);
  return client;
}

let sim: Sim;
let http: HttpServer;
beforeAll(async () => {
  sim = await simFor();
  sim.agent.script('e2e: ask', [{ text: 'MARK-1' }, { question: 'Favourite colour?' }, { text: 'MARK-2 you said {answer}' }]);
  http = await startHttpServer(sim, { args: ['--container', sim.containerId] });
});
afterAll(async () => {
  await http?.close();
  await sim?.close();
});

describe.each(['stdio', 'http'] as const)('%s', (transport) => {
  it.each(ERAS)('a question in one agent_run, %s', async (era) => {
    const asked: string[] = [];
    const client = elicitingClient(era, asked);
    if (transport === 'stdio') {
      await client.connect(
        new StdioClientTransport({ command: process.execPath, args: [CLI, '--container', sim.containerId], env: { PATH: process.env.PATH ?? '', HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token }, stderr: 'pipe' }),
      );
    } else {
      await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${sim.token}` } } }));
    }
    try {
      const r = await call(client, 'agent_run', { prompt: 'e2e: ask' });
      const inBand = transport === 'http' && era !== '2026-07-28'; // stateless 2025-era HTTP cannot be asked
      if (inBand) {
        expect(asked).toEqual([]);
        expect(r.text).toMatch(/· awaiting_answer\nMARK-1\n\? Favourite colour\?/);
        const a = await call(client, 'agent_reply', { session: (r.structured as { session: string }).session, answer: 'green' });
        expect(a.text).toContain('MARK-2 you said green');
      } else {
        expect(asked).toEqual(["The container's agent asks: Favourite colour?"]);
        expect(r.text).toMatch(/· idle/);
        expect(r.text.match(/MARK-\d/g)).toEqual(['MARK-1', 'MARK-2']);
        expect(r.text).toContain('MARK-2 you said blue');
      }
    } finally {
      await client.close();
    }
  });
});
