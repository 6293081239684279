/**
 * The agent toolset through the built binary, over stdio and HTTP, in every protocol revision each
 * transport serves. Every scenario is written once as a function of a combo (transport × era) and
 * run for each of the six, all concurrently against one simulator and one HTTP server.
 *
 * How a gate reaches the person depends on the combo: `push` (stdio 2025: an elicitation with a
 * 30 s limit), `round` (2026-07-28: an input_required result the retried call answers) or `none`
 * (stateless 2025-era HTTP: in-band only). A scenario that needs its own claim cache gets its own
 * auth token (its own principal on either transport) and finds its requests in the simulator's log
 * by that token's id (`tokenId`); sessions tell the rest apart.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../src/sim/index.js';
import { call, CLI, ERAS, simFor, startHttpServer, waitFor, type Connected, type Era, type HttpServer } from '../helpers/harness.js';

type Transport = 'stdio' | 'http';
interface Combo {
  transport: Transport;
  era: Era;
}
const COMBOS: Combo[] = (['stdio', 'http'] as const).flatMap((transport) => ERAS.map((era) => ({ transport, era })));
const label = (c: Combo) => `${c.transport} ${c.era}`;
const modeOf = (c: Combo) => (c.era === '2026-07-28' ? 'round' : c.transport === 'stdio' ? 'push' : 'none');

type Elicit = (req: { params: { message: string } }) => Promise<unknown>;

let sim: Sim;
let http: HttpServer;
const opened: Connected[] = [];

beforeAll(async () => {
  sim = await simFor();
  const s = sim.agent.script;
  s('e2e: ask', [{ text: 'MARK-1' }, { question: 'Favourite colour?' }, { text: 'MARK-2 you said {answer}' }]);
  s('e2e: branch', [{ question: 'Which branch?', options: ['main', 'dev'] }, { text: 'using {answer}' }]);
  s('e2e: clean', [{ confirm: 'rm -rf /tmp/build' }, { text: 'MARK-9 after' }]);
  s('e2e: drops', [{ text: 'MARK-1' }, { delayMs: 50 }, { text: 'MARK-2' }, { drop: true }, { text: 'MARK-3' }, { delayMs: 50 }, { drop: true }, { delayMs: 50 }, { text: 'MARK-4' }]);
  s('e2e: slow', [{ text: 'MARK-1' }, { delayMs: 1500 }, { text: 'MARK-2' }, { delayMs: 200 }, { text: 'MARK-3' }]);
  s('e2e: long', [{ text: 'MARK-1' }, { delayMs: 20_000 }, { text: 'MARK-2' }]);
  s('e2e: hello', [{ text: 'hi' }]);
  http = await startHttpServer(sim, { args: ['--container', sim.containerId] });
});
afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()));
  await http?.close();
  await sim?.close();
});

/** A client of `combo`; it declares elicitation when `elicit` is given (manual input_required rounds with `manual`). */
async function connect(combo: Combo, opts: { token?: string; elicit?: Elicit; manual?: boolean } = {}): Promise<Connected> {
  const versions =
    combo.era === '2026-07-28'
      ? { versionNegotiation: { mode: { pin: '2026-07-28' } } }
      : { supportedProtocolVersions: combo.era === '2025-06-18' ? ['2025-06-18'] : ['2025-11-25', '2025-06-18'] };
  const client = new Client({ name: 'hoody-mcp-tests', version: '0.0.0' }, {
    ...versions,
    ...(opts.elicit ? { capabilities: { elicitation: { form: {} } } } : {}),
    ...(opts.manual ? { inputRequired: { autoFulfill: false } } : {}),
  } as never);
  if (opts.elicit) client.setRequestHandler('elicitation/create', opts.elicit as never);
  const token = opts.token ?? sim.token;
  let err = '';
  if (combo.transport === 'stdio') {
    const t = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, '--container', sim.containerId],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: token },
      stderr: 'pipe',
    });
    t.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await client.connect(t);
  } else {
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  }
  const c: Connected = { client, stderr: () => err, close: () => client.close() };
  opened.push(c);
  return c;
}

/** One plain client (no elicitation) per combo, shared by the scenarios that need no principal of their own. */
const mains = new Map<string, Promise<Connected>>();
const main = (combo: Combo) => (mains.has(label(combo)) ? mains : mains.set(label(combo), connect(combo))).get(label(combo))!.then((c) => c.client);

/** A new auth token of the seeded user: a principal (and a claim cache) of its own on either transport. */
async function newToken(alias: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`http://127.0.0.1:${sim.port}/api/v1/auth/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ alias }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { data: { id: string; token: string } }).data;
}

/** A fresh session with one finished turn (so a scenario knows its session id before the turn under test). */
async function newSession(client: Client): Promise<string> {
  const r = await call(client, 'agent_run', { prompt: 'e2e: hello' });
  expect(r.text, r.text).toMatch(/· idle/);
  return (r.structured as { session: string }).session;
}

const markers = (text: string) => text.match(/MARK-\d+/g) ?? [];
const sessionOf = (r: { structured?: Record<string, unknown> }) => (r.structured as { session: string }).session;
const byToken = (id: string) => sim.requests.filter((q) => q.tokenId === id);

const SCENARIOS: Record<string, (combo: Combo) => Promise<void>> = {
  async 'a client that declares elicitation but never answers gets the in-band gate within ~35 s; agent_reply answers it'(combo) {
    const mode = modeOf(combo);
    const asked: string[] = [];
    const c = await connect(combo, { elicit: (req) => (asked.push(req.params.message), new Promise(() => undefined)), manual: mode === 'round' });
    const session = await newSession(c.client);
    const started = Date.now();
    if (mode === 'round') {
      // The input_required result is the gate coming back: the client holds it and never retries.
      const params = { name: 'agent_run', arguments: { prompt: 'e2e: branch', session } };
      const r = (await c.client.request({ method: 'tools/call', params }, { allowInputRequired: true })) as Record<string, unknown>;
      expect(r.resultType).toBe('input_required');
      expect(JSON.stringify(r.inputRequests)).toMatch(/The container's agent asks: Which branch\?.*options: main \| dev/);
    } else {
      const r = await call(c.client, 'agent_run', { prompt: 'e2e: branch', session }, { timeout: 60_000 });
      expect(asked).toEqual(mode === 'push' ? ["The container's agent asks: Which branch?"] : []);
      expect(r.text).toMatch(mode === 'push' ? /· awaiting_answer · no answer within 30 s/ : /· awaiting_answer\n/);
      expect(r.text).toContain('question: Which branch?\noptions: main | dev');
    }
    expect(Date.now() - started).toBeLessThan(36_000);
    const a = await call(c.client, 'agent_reply', { session, answer: 'dev' });
    expect(a.text, a.text).toMatch(/· idle/);
    expect(a.text).toContain('using dev');
  },

  async 'a question is answered through elicitation in one agent_run (in-band on stateless HTTP)'(combo) {
    const asked: string[] = [];
    const c = await connect(combo, { elicit: async (req) => (asked.push(req.params.message), { action: 'accept', content: { answer: 'blue' } }) });
    const r = await call(c.client, 'agent_run', { prompt: 'e2e: ask' });
    if (modeOf(combo) === 'none') {
      expect(asked).toEqual([]);
      expect(r.text).toMatch(/· awaiting_answer\nMARK-1\n\? Favourite colour\?/);
      const a = await call(c.client, 'agent_reply', { session: sessionOf(r), answer: 'green' });
      expect(a.text).toContain('MARK-2 you said green');
    } else {
      expect(asked).toEqual(["The container's agent asks: Favourite colour?"]);
      expect(r.text).toMatch(/· idle/);
      expect(markers(r.text)).toEqual(['MARK-1', 'MARK-2']);
      expect(r.text).toContain('MARK-2 you said blue');
    }
  },

  async 'a confirmation comes back in-band and is denied'(combo) {
    const client = await main(combo);
    const r = await call(client, 'agent_run', { prompt: 'e2e: clean' });
    expect(r.text).toMatch(/· awaiting_confirm/);
    expect(r.text).toContain('command: rm -rf /tmp/build (bash)\noptions: approve | deny');
    const d = await call(client, 'agent_reply', { session: sessionOf(r), approve: false });
    expect(d.text).toMatch(/· idle/);
    expect(d.text).toContain('← failed: denied by the user');
    expect(d.text).toContain('MARK-9 after');
  },

  async 'a dropped stream is resumed: every marker exactly once and in order'(combo) {
    const client = await main(combo);
    const progress: string[] = [];
    const r = await call(client, 'agent_run', { prompt: 'e2e: drops' }, { onprogress: (p) => progress.push(p.message ?? '') });
    expect(markers(r.text)).toEqual(['MARK-1', 'MARK-2', 'MARK-3', 'MARK-4']);
    expect(markers(progress.join('\n'))).toEqual(['MARK-1', 'MARK-2', 'MARK-3', 'MARK-4']);
    const streams = sim.requests.filter((q) => q.path === `/api/v1/agent/sessions/${sessionOf(r)}/stream`);
    expect(streams.length).toBeGreaterThanOrEqual(2);
  },

  async 'a turn outliving wait_s is finished through agent_status, nothing lost or repeated'(combo) {
    const client = await main(combo);
    const r = await call(client, 'agent_run', { prompt: 'e2e: slow', wait_s: 0.5 });
    expect(r.text).toMatch(/· running/);
    expect(markers(r.text)).toEqual(['MARK-1']);
    const s = await call(client, 'agent_status', { session: sessionOf(r), wait_s: 10 });
    expect(s.text).toMatch(/· idle/);
    expect(markers(s.text)).toEqual(['MARK-2', 'MARK-3']);
    expect(markers((await call(client, 'agent_status', { session: sessionOf(r) })).text)).toEqual([]);
  },

  async 'cancelling the call cancels the turn on the kit'(combo) {
    // A principal of its own: stateless 2025-era HTTP finds the request a cancellation names by
    // (credential, JSON-RPC id), and refuses to guess when two clients of one token share that id.
    const { client } = await connect(combo, { token: (await newToken(`e2e cancel ${label(combo)}`)).token });
    const session = await newSession(client);
    const ac = new AbortController();
    const run = call(client, 'agent_run', { prompt: 'e2e: long', session }, { signal: ac.signal, onprogress: (p) => p.message === 'MARK-1' && ac.abort() });
    await expect(run).rejects.toThrow();
    await waitFor('POST …/cancel at the kit', () => sim.requests.some((q) => q.host === 'agent' && q.method === 'POST' && q.path === `/api/v1/agent/sessions/${session}/cancel`));
    const st = await call(client, 'agent_status', { session, wait_s: 5 });
    expect(st.text).toMatch(/· idle/);
    expect(st.text).toContain('■ cancelled');
    expect(st.text).not.toContain('MARK-2');
  },

  async 'an expired claim is re-minted once and the call goes through'(combo) {
    const tok = await newToken(`e2e expired ${label(combo)}`);
    const c = await connect(combo, { token: tok.token });
    const authorize = () => byToken(tok.id).filter((q) => q.host === 'api' && q.path.endsWith('/authorize')).length;
    const refused = () => byToken(tok.id).filter((q) => q.host === 'agent' && q.status === 403).length;
    expect((await call(c.client, 'agent_sessions', {})).isError).toBe(false);
    expect([authorize(), refused()]).toEqual([1, 0]);
    sim.agent.expireClaims(tok.token); // the cached claim is past its expiry at the kit
    const r = await call(c.client, 'agent_sessions', {});
    expect(r.isError, r.text).toBe(false);
    expect([authorize(), refused()]).toEqual([2, 1]);
    expect((await call(c.client, 'agent_sessions', {})).isError).toBe(false);
    expect([authorize(), refused()]).toEqual([2, 1]);
  },

  async 'a forged claim is refused by the simulator, re-minted once, then a clear error'(combo) {
    const tok = await newToken(`e2e forged ${label(combo)}`);
    sim.agent.forgeClaims(true, tok.token);
    const c = await connect(combo, { token: tok.token });
    const r = await call(c.client, 'agent_sessions', {});
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/the agent kit refused the container claim: CLAIM_INVALID \(Container claim signature is invalid\) — a fresh claim was minted and refused too/);
    expect(byToken(tok.id).filter((q) => q.host === 'api' && q.path.endsWith('/authorize')).length).toBe(2);
    expect(byToken(tok.id).filter((q) => q.host === 'agent').map((q) => q.status)).toEqual([403, 403]);
    expect(r.text).not.toContain(tok.token);
  },

  async 'the Hoody token is sent to the control plane and the agent kit only'(combo) {
    const client = await main(combo);
    expect((await call(client, 'exec_run', { command: 'true' })).isError).toBe(false);
    expect((await call(client, 'file_list', { path: '/home/user' })).isError).toBe(false);
    expect((await call(client, 'agent_sessions', {})).isError).toBe(false);
    const credentialed = new Set(sim.requests.filter((q) => q.credential).map((q) => q.host));
    expect([...credentialed].sort()).toEqual(['agent', 'api']);
    expect(sim.requests.some((q) => q.host === 'terminal') && sim.requests.some((q) => q.host === 'files')).toBe(true);
  },
};

describe.concurrent('agent over the built binary', () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    for (const combo of COMBOS) it(`${label(combo)}: ${name}`, () => scenario(combo), 50_000);
  }
});

describe('agent when the deployment cannot sign claims', () => {
  it('every combo gets the 503 SIGNING_NOT_CONFIGURED as a clear error with the next step, without retries; other tools still work', async () => {
    sim.agent.setSigning(false);
    try {
      await Promise.all(
        COMBOS.map(async (combo) => {
          const tok = await newToken(`e2e unsigned ${label(combo)}`);
          const c = await connect(combo, { token: tok.token });
          const r = await call(c.client, 'agent_sessions', {});
          expect(r.isError).toBe(true);
          expect(r.text).toBe(
            'this Hoody deployment cannot sign container claims (503 SIGNING_NOT_CONFIGURED), so the agent kit cannot be reached — ask the Hoody operator to configure claim signing; other toolsets still work',
          );
          expect(byToken(tok.id).filter((q) => q.path.endsWith('/authorize')).map((q) => q.status)).toEqual([503]);
          expect(byToken(tok.id).some((q) => q.host === 'agent')).toBe(false);
          expect((await call(c.client, 'exec_run', { command: 'true' })).isError).toBe(false);
        }),
      );
    } finally {
      sim.agent.setSigning(true);
    }
  }, 30_000);

  it('across every scenario above, the Hoody token reached the control plane and the agent kit only', () => {
    const elsewhere = sim.requests.filter((q) => q.credential && q.host !== 'api' && q.host !== 'agent');
    expect(elsewhere).toEqual([]);
  });
});
