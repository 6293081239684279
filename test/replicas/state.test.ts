/**
 * Three replicas sharing Redis keep what one replica learned readable from the others: a job's
 * result after the kit has forgotten it, and the agent kit's container claim (minted once for
 * concurrent calls spread over the replicas).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { call, waitFor, type Connected } from '../helpers/shared.js';
import { startCluster, type Cluster } from '../helpers/replicas.js';

let t: Cluster;
// The kit reaps a finished job's session (and its result) 2.5 s after it ends.
beforeAll(async () => {
  t = await startCluster({ sim: { idleReapMs: 2500, resultTtlMs: 2500 } });
});
afterAll(async () => {
  await t?.close();
});

describe('state shared across replicas', () => {
  it("a job started through replica 2 is read through replica 1 after the kit forgot it", async () => {
    const [r1, r2] = [await t.connect('2025-11-25', 1), await t.connect('2026-07-28', 2)];
    try {
      const started = await call(r2.client, 'exec_run', { container: t.sim.containerId, command: 'sleep 1; echo finished-on-2; exit 3', wait_s: 0.3 });
      expect(started.isError, started.text).toBe(false);
      expect(started.structured).toMatchObject({ done: false });
      const job = (started.structured as { job: string }).job;
      const ran = t.sim.executions.find((e) => e.command.startsWith('sleep 1; echo finished-on-2'))!;
      await waitFor('the kit to forget the job', () => ran.forgottenAt, { timeoutMs: 15_000 });
      const st = await call(r1.client, 'exec_status', { container: t.sim.containerId, job });
      expect(st.isError, st.text).toBe(false);
      expect(st.text).toMatch(/^exit 3/);
      expect(st.text).toContain('finished-on-2');
    } finally {
      await Promise.all([r1.close(), r2.close()]);
    }
  });

  it('ten concurrent agent-kit calls spread over the three replicas mint one claim', async () => {
    const authorize = () => t.sim.requests.filter((q) => q.host === 'api' && q.method === 'POST' && q.path === `/api/v1/containers/${t.sim.containerId}/authorize`).length;
    const agentCalls = () => t.sim.requests.filter((q) => q.host === 'agent').length;
    const clients: Connected[] = await Promise.all(Array.from({ length: 10 }, (_, i) => t.connect(i % 2 ? '2026-07-28' : '2025-11-25', (i % 3) + 1)));
    try {
      // Each replica has met the credential and the container already: the ten agent calls start together.
      for (const c of clients) expect((await call(c.client, 'container_get', { container: t.sim.containerId })).isError).toBe(false);
      const [claims, kit] = [authorize(), agentCalls()];
      const results = await Promise.all(clients.map((c) => call(c.client, 'agent_sessions', { container: t.sim.containerId })));
      for (const r of results) expect(r.isError, r.text).toBe(false);
      expect(agentCalls() - kit).toBeGreaterThanOrEqual(10);
      const t0 = t.sim.requests.find((q) => q.host === 'agent')?.at ?? 0;
      const seen = t.sim.requests.filter((q) => q.path.endsWith('/authorize') || q.host === 'agent').map((q) => `${q.host === 'api' ? 'authorize' : 'agent'} ${q.status} +${q.at - t0} ms`);
      expect(authorize() - claims, `requests, from the first agent call: ${seen.join(', ')}`).toBe(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it("an agent's question asked through one replica is answered by the retried call on another (2026-07-28 input_required round)", async () => {
    t.sim.agent.script('replicas: ask', [{ text: 'MARK-1' }, { question: 'Favourite colour?' }, { text: 'MARK-2 you said {answer}' }]);
    const client = new Client({ name: 'replicas-round', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {} } } } as never);
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', (async (req: { params: { message: string } }) => (asked.push(req.params.message), { action: 'accept', content: { answer: 'blue' } })) as never);
    await client.connect(new StreamableHTTPClientTransport(new URL(t.nginx.url), { requestInit: { headers: { authorization: `Bearer ${t.sim.token}` } } }));
    const served = () => t.replicas.map((r) => r.logs().filter((l) => l.tool === 'agent_run').length);
    const before = served();
    try {
      const r = await call(client, 'agent_run', { container: t.sim.containerId, prompt: 'replicas: ask' });
      expect(r.isError, r.text).toBe(false);
      expect(asked).toEqual(["The container's agent asks: Favourite colour?"]);
      expect(r.text.match(/MARK-\d/g)).toEqual(['MARK-1', 'MARK-2']);
      expect(r.text).toContain('MARK-2 you said blue');
      // The first call and its retry went to two different replicas (nginx round robin).
      await waitFor('both requests in the logs', () => served().reduce((a, n, i) => a + n - before[i]!, 0) >= 2);
      expect(served().filter((n, i) => n > before[i]!).length).toBeGreaterThanOrEqual(2);
    } finally {
      await client.close();
    }
  });

  it('no log line of any replica, nor of nginx, carries the token', () => {
    expect(t.replicas.some((r) => r.logs().length > 0)).toBe(true);
    expect(t.tokenSeenIn()).toEqual([]);
  });
});
