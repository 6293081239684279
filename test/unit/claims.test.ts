/**
 * Claims for the agent kits, against the simulator's real control plane (authorize, Ed25519
 * signing) and a stand-in agent kit that verifies each claim with the published public key.
 * A front server on one port sends api.localhost to the simulator and *-workspaces-1.* hosts to
 * the stand-in, as Hoody's proxy would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hoodyFor } from '../../src/core/hoody.js';
import { readJson } from '../../src/core/http.js';
import { publicKeyFromHex, startSim, verifyContainerClaim, type Sim } from '../../src/sim/index.js';

let sim: Sim;
let front: http.Server;
let apiUrl: string;
const seen: { ok: boolean; code?: string; token?: boolean }[] = [];
let refuseNext = false;

beforeAll(async () => {
  sim = await startSim({});
  const pk = (await (await fetch(`http://127.0.0.1:${sim.port}/api/v1/meta/public-key`, { headers: { host: `api.localhost:${sim.port}` } })).json()) as {
    data: { keys: { kid: string; public_key_hex: string }[] };
  };
  const keys = Object.fromEntries(pk.data.keys.map((k) => [k.kid, publicKeyFromHex(k.public_key_hex)]));
  front = http.createServer((req, res) => {
    const host = req.headers.host ?? '';
    if (host.startsWith('api.')) {
      const up = http.request({ host: '127.0.0.1', port: sim.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
      return;
    }
    const claim = req.headers['x-hoody-container-claim'] as string | undefined;
    const v = verifyContainerClaim(claim, keys, { containerId: sim.containerId });
    const tokenOk = req.headers['x-hoody-token'] === sim.token;
    if (refuseNext && v.ok) {
      refuseNext = false;
      seen.push({ ok: false, code: 'CLAIM_INVALID' });
      res.writeHead(403, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ code: 'CLAIM_INVALID' }));
    }
    seen.push({ ok: v.ok && tokenOk, code: v.ok ? undefined : v.code, token: req.headers['x-hoody-token'] !== undefined });
    res.writeHead(v.ok && tokenOk ? 200 : v.ok ? 401 : v.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(v.ok && tokenOk ? { ok: true } : { code: v.ok ? 'TOKEN_REQUIRED' : v.code }));
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  apiUrl = `http://api.localhost:${(front.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => front.close(() => r()));
  await sim.close();
});

const authorizeCalls = () => sim.requests.filter((q) => q.host === 'api' && q.path.endsWith('/authorize')).length;

describe('agent-kit claims', () => {
  it('mints once, sends claim + token on every call, re-mints once when refused', async () => {
    const h = hoodyFor({ apiUrl }, sim.token);
    const call = async () => readJson(await h.kits.request(sim.containerId, 'workspaces', { method: 'GET', path: '/api/v1/agent/health' }), 'workspaces');
    expect(await call()).toEqual({ ok: true });
    expect(await call()).toEqual({ ok: true });
    expect(authorizeCalls()).toBe(1);
    refuseNext = true;
    expect(await call()).toEqual({ ok: true });
    expect(authorizeCalls()).toBe(2);
    expect(seen.map((s) => s.ok)).toEqual([true, true, false, true]);
  });

  it('sends no claim and no token to any other kit', async () => {
    const h = hoodyFor({ apiUrl }, sim.token);
    const before = authorizeCalls();
    const res = await h.kits.request(sim.containerId, 'files', { method: 'GET', path: '/api/v1/files/health' });
    await res.body.dump();
    expect(authorizeCalls()).toBe(before);
    expect(seen.at(-1)).toMatchObject({ ok: false, code: 'CLAIM_REQUIRED', token: false });
  });
});
