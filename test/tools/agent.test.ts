/**
 * The agent toolset in-process against the simulator's agent kit: scripted turns streamed as
 * progress, gates in-band and through elicitation (2025 sessions), dropped streams resumed,
 * turns past wait_s continued by agent_status, cancellation reaching the kit, claims (expired →
 * re-minted, forged → refused), and the Hoody token going to no kit but the agent kit.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import type { Sim } from '../../src/sim/index.js';
import { call, connectInproc, useInproc, waitFor, type Connected } from '../helpers/inproc.js';
import { everyToolChecks } from './catalogue.js';

const t = useInproc();

/** A 2025 client that declares elicitation and answers with `answer` (never, when it returns a pending promise). */
async function elicitingClient(sim: Sim, answer: (req: { params: { message: string } }) => Promise<unknown>): Promise<Connected> {
  const config = parseConfig(['--container', sim.containerId], { HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token });
  const server = createServer(config, { token: config.token }, { remote: false });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 'eliciting', version: '0' }, { capabilities: { elicitation: { form: {} } } } as never);
  client.setRequestHandler('elicitation/create', answer as never);
  await client.connect(a);
  return { client, stderr: () => '', close: async () => (await client.close(), await server.close()) };
}

/** Raw request to the container's agent kit with chosen headers (the proxy routes by Host). */
function kitGet(sim: Sim, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const host = new URL(sim.kitUrl(sim.containerId, 'agent')).host;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: sim.port, path, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const markers = (text: string, re = /MARK-\d+/g) => text.match(re) ?? [];

describe('agent toolset', () => {
  it.concurrent('a client that declares elicitation but never answers gets the in-band gate within ~35 s, and agent_reply answers it', async () => {
    t.sim.agent.script('silent client', [{ question: 'Which branch?', options: ['main', 'dev'] }, { text: 'using {answer}' }]);
    const asked: string[] = [];
    const c = await elicitingClient(t.sim, async (req) => (asked.push(req.params.message), new Promise(() => undefined)));
    try {
      const started = Date.now();
      const r = await call(c.client, 'agent_run', { prompt: 'silent client' }, { timeout: 60_000 });
      expect(Date.now() - started).toBeLessThan(36_000);
      expect(asked).toEqual(['The container\'s agent asks: Which branch?']);
      expect(r.text).toMatch(/awaiting_answer · no answer within 30 s/);
      expect(r.text).toContain('question: Which branch?\noptions: main | dev');
      const session = (r.structured as { session: string }).session;
      const a = await call(t.c.client, 'agent_reply', { session, answer: 'dev' });
      expect(a.text).toMatch(/· idle/);
      expect(a.text).toContain('using dev');
    } finally {
      await c.close();
    }
  }, 50_000);

  it.concurrent('agent_run streams each event as one progress line and returns the answer', async () => {
    t.sim.agent.script('list home', [{ text: 'MARK-1 looking' }, { tool: 'bash', command: 'ls ~', output: 'MARK-2' }, { text: 'MARK-3 done' }]);
    const progress: string[] = [];
    const r = await call(t.c.client, 'agent_run', { prompt: 'list home' }, { onprogress: (p) => progress.push(p.message ?? '') });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toMatch(/^session [0-9a-f]{24} · idle\nMARK-1 looking\n→ bash: ls ~\n← ok: MARK-2\nMARK-3 done\n■ done$/);
    expect(progress.filter((p) => !p.startsWith('working'))).toEqual(['MARK-1 looking', '→ bash: ls ~', '← ok: MARK-2', 'MARK-3 done', '■ done']);
  });

  it.concurrent('a question answered through elicitation in one agent_run (2025 session)', async () => {
    t.sim.agent.script('ask colour', [{ text: 'MARK-1' }, { question: 'Favourite colour?' }, { text: 'MARK-2 you said {answer}' }]);
    const c = await elicitingClient(t.sim, async () => ({ action: 'accept', content: { answer: 'blue' } }));
    try {
      const r = await call(c.client, 'agent_run', { prompt: 'ask colour' });
      expect(r.text).toMatch(/· idle/);
      expect(markers(r.text)).toEqual(['MARK-1', 'MARK-2']);
      expect(r.text).toContain('MARK-2 you said blue');
    } finally {
      await c.close();
    }
  });

  it.concurrent('a confirmation comes back in-band and is denied with agent_reply', async () => {
    t.sim.agent.script('clean up', [{ confirm: 'rm -rf /tmp/build' }, { text: 'MARK-9 after' }]);
    const r = await call(t.c.client, 'agent_run', { prompt: 'clean up' });
    expect(r.text).toMatch(/· awaiting_confirm/);
    expect(r.text).toContain('command: rm -rf /tmp/build (bash)\noptions: approve | deny');
    const s = r.structured as { session: string; gate_id: string; kind: string };
    expect(s.kind).toBe('confirm');
    const stale = await call(t.c.client, 'agent_reply', { session: s.session, approve: false, gate_id: 'g_nope' });
    expect(stale.isError).toBe(true);
    expect(stale.text).toMatch(/stale_gate.* — agent_status shows what the session is waiting on now/);
    const d = await call(t.c.client, 'agent_reply', { session: s.session, approve: false });
    expect(d.text).toContain('← failed: denied by the user');
    expect(d.text).toContain('MARK-9 after');
    expect(d.text).not.toContain('rm -rf'); // the gate was shown before: not repeated
  });

  it.concurrent('auto_approve approves confirmations only; a question still comes back', async () => {
    t.sim.agent.script('auto', [{ confirm: 'make install', output: 'installed' }, { question: 'Restart now?' }, { text: 'bye' }]);
    const r = await call(t.c.client, 'agent_run', { prompt: 'auto', auto_approve: true });
    expect(r.text).toContain('← ok: installed');
    expect(r.text).toMatch(/awaiting_answer[\s\S]*question: Restart now\?/);
    const busy = await call(t.c.client, 'agent_run', { prompt: 'another', session: (r.structured as { session: string }).session });
    expect(busy.isError).toBe(true);
    expect(busy.text).toMatch(/gate_parked.* — the agent is waiting on a question or confirmation: agent_reply answers it/);
  });

  it.concurrent('a dropped stream is resumed: every marker exactly once and in order', async () => {
    t.sim.agent.script('drops', [{ text: 'MARK-1' }, { delayMs: 50 }, { text: 'MARK-2' }, { drop: true }, { text: 'MARK-3' }, { delayMs: 50 }, { drop: true }, { delayMs: 50 }, { text: 'MARK-4' }]);
    const before = t.sim.requests.length;
    const progress: string[] = [];
    const r = await call(t.c.client, 'agent_run', { prompt: 'drops' }, { onprogress: (p) => progress.push(p.message ?? '') });
    expect(markers(r.text)).toEqual(['MARK-1', 'MARK-2', 'MARK-3', 'MARK-4']);
    expect(markers(progress.join('\n'))).toEqual(['MARK-1', 'MARK-2', 'MARK-3', 'MARK-4']);
    const session = (r.structured as { session: string }).session;
    const streams = t.sim.requests.slice(before).filter((q) => q.path === `/api/v1/agent/sessions/${session}/stream`);
    expect(streams.length).toBeGreaterThanOrEqual(2);
  });

  it.concurrent('a turn outliving wait_s returns the session; agent_status finishes it with nothing lost or repeated', async () => {
    t.sim.agent.script('slow', [{ text: 'MARK-1' }, { delayMs: 1500 }, { text: 'MARK-2' }, { delayMs: 200 }, { text: 'MARK-3' }]);
    const r = await call(t.c.client, 'agent_run', { prompt: 'slow', wait_s: 0.5 });
    expect(r.text).toMatch(/· running/);
    expect(r.text).toContain('still running — agent_status continues');
    expect(markers(r.text)).toEqual(['MARK-1']);
    const session = (r.structured as { session: string }).session;
    const s = await call(t.c.client, 'agent_status', { session, wait_s: 10 });
    expect(markers(s.text)).toEqual(['MARK-2', 'MARK-3']);
    expect(s.text).toMatch(/· idle/);
    const again = await call(t.c.client, 'agent_status', { session });
    expect(markers(again.text)).toEqual([]);
    const transcript = await t.c.client.readResource({ uri: `hoody://containers/${t.sim.containerId}/agent/${session}` });
    expect(markers((transcript.contents[0] as { text: string }).text)).toEqual(['MARK-1', 'MARK-2', 'MARK-3']);
  });

  it.concurrent('cancelling the call cancels the turn on the kit', async () => {
    t.sim.agent.script('long', [{ text: 'MARK-1' }, { delayMs: 20_000 }, { text: 'MARK-2' }]);
    const ac = new AbortController();
    const progress: string[] = [];
    const run = call(t.c.client, 'agent_run', { prompt: 'long' }, { signal: ac.signal, onprogress: (p) => (progress.push(p.message ?? ''), p.message === 'MARK-1' && ac.abort()) });
    await expect(run).rejects.toThrow();
    const cancel = await waitFor('POST …/cancel at the kit', () => t.sim.requests.find((q) => q.host === 'agent' && q.method === 'POST' && q.path.endsWith('/cancel')));
    const session = /sessions\/([^/]+)\/cancel/.exec(cancel.path)![1]!;
    const st = await call(t.c.client, 'agent_status', { session, wait_s: 5 });
    expect(st.text).toMatch(/· idle/);
    expect(st.text).toContain('■ cancelled');
  });

  it.concurrent('a second turn while one runs is refused with turn_in_flight and what to do', async () => {
    t.sim.agent.script('busy', [{ delayMs: 3000 }, { text: 'x' }]);
    const r = await call(t.c.client, 'agent_run', { prompt: 'busy', wait_s: 0 });
    const session = (r.structured as { session: string }).session;
    const again = await call(t.c.client, 'agent_run', { prompt: 'more', session });
    expect(again.text).toMatch(/turn_in_flight.* — a turn is running: agent_status follows it, agent_cancel stops it/);
    await call(t.c.client, 'agent_cancel', { session });
  });

  it.concurrent('bad session ids never reach a URL', async () => {
    for (const session of ['../../etc', 'a/b', 'x'.repeat(65), '?q=1']) {
      const r = await call(t.c.client, 'agent_status', { session });
      expect(r.isError).toBe(true);
    }
    const r = await call(t.c.client, 'agent_status', { session: 'deadbeef' });
    expect(r.text).toMatch(/session_not_found.* — agent_sessions lists the sessions/);
  });
});

describe('agent prompts and sessions', () => {
  it('lists the delegate prompt and renders it', async () => {
    const { prompts } = await t.c.client.listPrompts();
    expect(prompts.map((p) => p.name)).toContain('delegate_to_agent');
    const p = await t.c.client.getPrompt({ name: 'delegate_to_agent', arguments: { task: 'fix the tests', container: 'box' } });
    expect((p.messages[0]!.content as { text: string }).text).toMatch(/fix the tests[\s\S]*agent_run[\s\S]*agent_reply/);
  });

  it('agent_sessions lists the sessions', async () => {
    const r = await call(t.c.client, 'agent_sessions', {});
    expect(r.text).toMatch(/^[0-9a-f]{24} {2}(idle|running|awaiting_\w+) {2}hoody\/hoody-free/m);
  });
});

describe('agent kit claims and credentials', () => {
  it('an expired claim is re-minted once and the call goes through', async () => {
    // Another principal view (default container by name), so its claim cache starts empty.
    const c2 = await connectInproc(t.sim, { args: ['--container', t.sim.containerName] });
    const authorize = () => t.sim.requests.filter((q) => q.host === 'api' && q.path.endsWith('/authorize')).length;
    t.sim.agent.setClaimTtl(2); // iat is whole seconds: a 2 s claim lives at least 1 s
    try {
      expect((await call(c2.client, 'agent_sessions', {})).isError).toBe(false);
      const exp = t.sim.agent.lastClaim!.exp;
      expect(exp - Date.now() / 1000).toBeLessThanOrEqual(2);
      await waitFor('the claim to expire', () => Date.now() / 1000 > exp, { timeoutMs: 5_000 });
      t.sim.agent.setClaimTtl(3600);
      const before = authorize();
      const refusals = t.sim.requests.filter((q) => q.host === 'agent' && q.status === 403).length;
      const r = await call(c2.client, 'agent_sessions', {});
      expect(r.isError, r.text).toBe(false);
      expect(authorize()).toBe(before + 1);
      expect(t.sim.requests.filter((q) => q.host === 'agent' && q.status === 403).length).toBe(refusals + 1);
    } finally {
      t.sim.agent.setClaimTtl(3600);
      await c2.close();
    }
  });

  it('the simulator refuses a forged, a tampered and a missing claim', async () => {
    const token = t.sim.token;
    const { privateKey } = generateKeyPairSync('ed25519');
    const payload = Buffer.from(JSON.stringify({ claim_type: 'container', container_id: t.sim.containerId, project_id: t.sim.projectId, sub: t.sim.user.id, iat: 1, exp: 4e9 })).toString('base64url');
    const forged = { kid: 'v1', payload_b64: payload, signature_hex: sign(null, Buffer.from(payload), privateKey).toString('hex') };
    const r1 = await kitGet(t.sim, '/api/v1/agent/sessions', { 'x-hoody-container-claim': JSON.stringify(forged), 'x-hoody-token': token });
    expect(r1.status).toBe(403);
    expect(JSON.parse(r1.body)).toMatchObject({ code: 'CLAIM_INVALID' });
    const r2 = await kitGet(t.sim, '/api/v1/agent/sessions', { 'x-hoody-token': token });
    expect(r2.status).toBe(401);
    expect(JSON.parse(r2.body)).toMatchObject({ code: 'CLAIM_REQUIRED' });
    const r3 = await kitGet(t.sim, '/api/v1/agent/sessions', { 'x-hoody-container-claim': '{nope', 'x-hoody-token': token });
    expect(JSON.parse(r3.body)).toMatchObject({ code: 'CLAIM_MALFORMED' });
  });

  it('the Hoody token reaches the control plane and the agent kit only', async () => {
    await call(t.c.client, 'exec_run', { command: 'true' });
    await call(t.c.client, 'file_list', { path: '/home/user' });
    await call(t.c.client, 'agent_sessions', {});
    const hosts = new Set(t.sim.requests.filter((q) => q.credential).map((q) => q.host));
    expect([...hosts].sort()).toEqual(['agent', 'api']);
    expect(t.sim.requests.some((q) => q.host === 'terminal')).toBe(true);
  });
});

everyToolChecks(t, 'agent');
