import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../src/sim/index.js';
import { kit } from './helpers.js';

// The probe runs once per process: forcing the fallback here affects this file only.
process.env.HOODY_SIM_ISOLATION = 'cwd';

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({});
});
afterAll(async () => {
  await sim.close();
});

describe('cwd isolation fallback', () => {
  it('reports cwd isolation and runs commands from the sandbox home with HOME set', async () => {
    expect(sim.isolation).toBe('cwd');
    const T = kit(sim, 'terminal');
    const r = await T('POST', '/api/v1/terminal/execute?ephemeral=true', { command: 'echo hi > note.txt; [ "$HOME" = "$PWD" ] && echo same' });
    expect(r.json).toMatchObject({ exit_code: 0, stdout: 'same\r\n' });
    expect(await readFile(sim.containerPath(sim.containerId, '/home/user/note.txt'), 'utf8')).toBe('hi\n');
    const F = kit(sim, 'files');
    expect((await F('GET', '/api/v1/files/home/user/note.txt')).text).toBe('hi\n');
    const cd = await T('POST', '/api/v1/terminal/execute?terminal_id=2&cwd=/workspace', { command: 'pwd' });
    expect(cd.json.stdout).toBe(`${sim.containerPath(sim.containerId, '/workspace')}\r\n`);
    const again = await T('POST', '/api/v1/terminal/execute?terminal_id=2', { command: 'true' });
    expect(again.json.status).toBe('completed');
    const sessions = await T('GET', '/api/v1/terminal/sessions');
    expect(sessions.json.find((s: { id: number }) => s.id === 2).cwd).toBe('/workspace');
  });
});
