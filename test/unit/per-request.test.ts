/**
 * Over HTTP a server is built per request from shared pieces (tool schemas and their JSON, a
 * scope's tools, a credential's part): instances built one after another list the same tools,
 * and one built for a single tools/call serves that call and offers nothing else.
 */
import { InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.js';
import { offerFor, serverFactory, type InstanceOptions } from '../../src/server.js';
import type { Sim } from '../../src/sim/index.js';
import { call, clientFor, simFor } from '../helpers/shared.js';

let sim: Sim;
let config: Config;
beforeAll(async () => {
  sim = await simFor();
  config = parseConfig(['--container', sim.containerId], { HOODY_API_URL: sim.apiUrl, HOODY_TOKEN: sim.token });
});
afterAll(() => sim?.close());

async function connected(opts: InstanceOptions) {
  const server = serverFactory(config, { token: sim.token }, true)(opts);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = clientFor('2025-11-25');
  await client.connect(clientSide);
  return { client, close: async () => (await client.close(), await server.close()) };
}

describe('per-request instances', () => {
  it('list the same tools, schemas and all, instance after instance', async () => {
    const lists = [];
    for (let i = 0; i < 3; i++) {
      const c = await connected({});
      lists.push(JSON.stringify((await c.client.listTools()).tools));
      if (i === 1) expect((await call(c.client, 'container_get', {})).isError).toBe(false);
      await c.close();
    }
    expect(lists[1]).toBe(lists[0]);
    expect(lists[2]).toBe(lists[0]);
  });

  it('a scope gets its own cached tools: the read-only view narrows, the full offer is untouched', () => {
    const ro = offerFor(config, { readOnly: true });
    expect(offerFor(config, { readOnly: true })).toBe(ro);
    expect(ro.tools.map((t) => t.name)).not.toContain('file_write');
    expect(offerFor(config).tools.map((t) => t.name)).toContain('file_write');
    expect(() => offerFor(config, { toolsets: ['nope'] })).toThrow(/unknown toolset "nope"/);
  });

  it('one built for a single tools/call serves it; other names are not found', async () => {
    const c = await connected({ onlyTool: 'container_get' });
    expect((await call(c.client, 'container_get', {})).text).toMatch(sim.containerId);
    await expect(call(c.client, 'container_list', {})).rejects.toThrow(/container_list not found/);
    await c.close();
  });
});
