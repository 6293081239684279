/**
 * Where the seeds contradict each other the simulator can answer either way; the tools must read
 * every documented form (seed-kits-exec-files.md §8: #3 stdout|output, #14 paths|entries,
 * #20 PUT/DELETE bodies; PTY line endings).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { call, useSimAndStdio } from '../helpers/harness.js';

const t = useSimAndStdio();

describe('tolerant reading', () => {
  it.each(['stdout', 'output', 'both'] as const)('terminal output field: %s', async (output) => {
    t.sim.quirks.output = output;
    const r = await call(t.c.client, 'exec_run', { command: 'printf "a\\nb\\n"' });
    expect(r.text).toMatch(/^exit 0 · .*\na\nb\n?$/);
  });

  it.each([true, false])('PTY line endings (crlf=%s) come out as plain \\n', async (crlf) => {
    t.sim.quirks.crlf = crlf;
    const r = await call(t.c.client, 'exec_run', { command: 'echo one; echo two' });
    expect(r.text).toContain('one\ntwo');
    expect(r.text).not.toContain('\r');
  });

  it.each(['paths', 'entries'] as const)('directory listing key: %s', async (listing) => {
    t.sim.quirks.listing = listing;
    await call(t.c.client, 'file_write', { path: `/home/user/q-${listing}/f.txt`, content: 'x' });
    const r = await call(t.c.client, 'file_list', { path: `/home/user/q-${listing}` });
    expect(r.text).toMatch(/f\s+1 B\s+f\.txt/);
  });

  it.each(['skill', 'reference'] as const)('PUT/DELETE success bodies: %s', async (putShape) => {
    t.sim.quirks.putShape = putShape;
    const w = await call(t.c.client, 'file_write', { path: `/home/user/put-${putShape}.txt`, content: 'hello' });
    expect(w.text).toBe(`wrote 5 B to /home/user/put-${putShape}.txt`);
    expect(readFileSync(t.sim.containerPath(t.sim.containerId, `/home/user/put-${putShape}.txt`), 'utf8')).toBe('hello');
    const d = await call(t.c.client, 'file_delete', { path: `/home/user/put-${putShape}.txt` });
    expect(d.isError, d.text).toBe(false);
  });

  it.each(['completed', 'timeout'] as const)('a fired timeout reported as %s is a finished, failed job', async (timeoutStatus) => {
    t.sim.quirks.timeoutStatus = timeoutStatus;
    const r = await call(t.c.client, 'exec_run', { command: 'sleep 10', timeout_s: 1, wait_s: 8 });
    expect(r.structured).toMatchObject({ done: true, exit_code: 124 });
  });
});
