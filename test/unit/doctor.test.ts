/**
 * hoody-mcp doctor against the simulator: a good token, a bad token, an unreachable API, a stopped
 * container, an unknown container, no token. It says what works and what to do, and never prints
 * the token or a kit URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/doctor.js';
import { startSim, type Sim } from '../../src/sim/index.js';

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({});
});
afterAll(() => sim.close());

async function run(env: Record<string, string>, argv: string[] = []) {
  let text = '';
  const code = await doctor(argv, env, (s) => void (text += s));
  expect(text).not.toContain(sim.token);
  expect(text).not.toMatch(/containers\.localhost/);
  return { code, text };
}

describe('hoody-mcp doctor', () => {
  it('all good: token, API, container, terminal and files kits', async () => {
    const r = await run({ HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token });
    expect(r.code).toBe(0);
    for (const l of [/✓ API +http:\/\/api\.localhost:\d+ answers/, /✓ auth +token accepted/, /✓ container +sim-container .* is running/, /✓ terminal +kit answers/, /✓ files +kit answers/, /All checks passed/])
      expect(r.text).toMatch(l);
  });
  it('a refused token says to make a new one', async () => {
    const r = await run({ HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: 'hdy_not_a_real_token' });
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/✗ auth +token refused .*HTTP 401.*set HOODY_TOKEN/);
    expect(r.text).not.toContain('hdy_not_a_real_token');
  });
  it('an unreachable API says to check --api-url', async () => {
    const r = await run({ HOODY_API_URL: 'http://api.localhost:9', HOODY_TOKEN: 'hdy_x' });
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/✗ API +http:\/\/api\.localhost:9 does not answer .*check --api-url/);
  });
  it('no token says how to set one; an unknown container says to pass another', async () => {
    expect((await run({ HOODY_API_URL: sim.apiUrl })).text).toMatch(/✗ token +not set: set HOODY_TOKEN/);
    const r = await run({ HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token }, ['--container', 'nope']);
    expect(r.text).toMatch(/✗ container +"nope": no container .*--container/);
  });
  it('a stopped container says to start it and skips its kits', async () => {
    sim.setContainerStatus(sim.containerId, 'stopped');
    try {
      const r = await run({ HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token }, ['--container', sim.containerName]);
      expect(r.code).toBe(1);
      expect(r.text).toMatch(/✗ container +sim-container .* is stopped: start it/);
      expect(r.text).not.toMatch(/terminal/);
    } finally {
      sim.setContainerStatus(sim.containerId, 'running');
    }
  });
});
