/**
 * A job's result outlives the kit's memory: the kit reaps a finished pinned session (and its
 * result) after an idle period; a handle must stay readable anyway (≥ 1 h by contract).
 */
import { describe, expect, it } from 'vitest';
import { call, useSimAndStdio, waitFor } from '../helpers/harness.js';

const t = useSimAndStdio({ sim: { idleReapMs: 2500, resultTtlMs: 2500 } });

describe('job retention', () => {
  it('a job nobody polled stays readable after the kit has forgotten it', async () => {
    const r = await call(t.c.client, 'exec_run', { command: 'sleep 1.5; echo finished-late; exit 7', wait_s: 0.3 });
    const job = (r.structured as { job: string }).job;
    expect(r.structured).toMatchObject({ done: false });
    // Ends at ~1.5 s; the kit forgets it 2.5 s later. Nobody asks until it has.
    const ran = t.sim.executions.find((e) => e.command.startsWith('sleep 1.5; echo finished-late'))!;
    await waitFor('the kit to forget the job', () => ran.forgottenAt, { timeoutMs: 15_000 });
    const kitSaw = t.sim.requests.filter((q) => q.host === 'terminal' && q.path.includes('/result/') && q.status === 404).length;
    const st = await call(t.c.client, 'exec_status', { job });
    expect(st.isError, st.text).toBe(false);
    expect(st.text).toMatch(/^exit 7/);
    expect(st.text).toContain('finished-late');
    expect(kitSaw).toBe(0);
  });
});
