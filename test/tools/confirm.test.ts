/**
 * Calls that cannot be undone ask first (issue 17, --confirm): asked through elicitation on a 2025
 * session (yes → done, no → nothing done), run unasked with a note where the client cannot ask,
 * refused in-band under always-refuse. The 2026-07-28 input_required round is in test/e2e/confirm.test.ts.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { call, connectInproc, useInproc, type Connected } from '../helpers/inproc.js';

const t = useInproc();

/** A 2025 client that declares elicitation and answers each question with the next of `answers`. */
async function eliciting(answers: unknown[], asked: string[]): Promise<Connected> {
  const config = parseConfig(['--container', t.sim.containerId, '--toolsets', 'all'], { HOODY_API_URL: t.sim.apiUrl, HOODY_TOKEN: t.sim.token });
  const server = createServer(config, { token: config.token }, { remote: false });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 'eliciting', version: '0' }, { capabilities: { elicitation: { form: {} } } } as never);
  client.setRequestHandler('elicitation/create', (async (req: { params: { message: string } }) => (asked.push(req.params.message), answers.shift())) as never);
  await client.connect(a);
  return { client, stderr: () => '', close: async () => (await client.close(), await server.close()) };
}

/** A directory with a file in it, on the simulator's disk; returns its container path. */
function tree(name: string): string {
  const host = t.sim.containerPath(t.sim.containerId, `/home/user/${name}`);
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, 'keep.txt'), 'data');
  return `/home/user/${name}`;
}
const exists = (p: string) => existsSync(t.sim.containerPath(t.sim.containerId, p));

describe('--confirm', () => {
  it('asked through elicitation: declined → nothing done; accepted → done; a plain delete is not asked', async () => {
    const asked: string[] = [];
    const c = await eliciting([{ action: 'decline' }, { action: 'accept', content: { confirm: false } }, { action: 'accept', content: { confirm: true } }], asked);
    try {
      const p = tree('confirm-a');
      const no = await call(c.client, 'file_delete', { path: p, recursive: true });
      expect(no.isError).toBe(true);
      expect(no.text).toMatch(/^not done: the user declined \(Delete \/home\/user\/confirm-a and everything in it on the default container\?\)/);
      expect(exists(`${p}/keep.txt`)).toBe(true);
      const unticked = await call(c.client, 'file_delete', { path: p, recursive: true });
      expect(unticked.text).toMatch(/^not done: the user did not confirm/);
      expect(exists(`${p}/keep.txt`)).toBe(true);
      const yes = await call(c.client, 'file_delete', { path: p, recursive: true });
      expect(yes.isError).toBe(false);
      expect(yes.text).toBe(`deleted ${p}/ (recursively)`);
      expect(exists(p)).toBe(false);
      expect(asked).toHaveLength(3);
      tree('confirm-b');
      const plain = await call(c.client, 'file_delete', { path: '/home/user/confirm-b/keep.txt' });
      expect(plain.text).toBe('deleted /home/user/confirm-b/keep.txt');
      expect(asked).toHaveLength(3);
    } finally {
      await c.close();
    }
  });

  it('hoody_request asks for a POST, not for a GET; a decline sends nothing', async () => {
    const asked: string[] = [];
    const c = await eliciting([{ action: 'cancel' }], asked);
    try {
      const before = t.sim.requests.length;
      const r = await call(c.client, 'hoody_request', { kit: 'api', method: 'POST', path: '/api/v1/auth/tokens', body: { name: 'x' } });
      expect(r.text).toMatch(/^not done: the user cancelled \(Send POST \/api\/v1\/auth\/tokens to the Hoody API\?\)/);
      expect(t.sim.requests.slice(before).filter((q) => q.method === 'POST')).toEqual([]);
      const g = await call(c.client, 'hoody_request', { kit: 'api', method: 'GET', path: `/api/v1/containers/${t.sim.containerId}` });
      expect(g.text).toMatch(/^HTTP 200/);
      expect(asked).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('a client that cannot ask: the call runs and the result says it was not confirmed', async () => {
    const p = tree('confirm-c');
    const r = await call(t.c.client, 'file_delete', { path: p, recursive: true });
    expect(r.isError).toBe(false);
    expect(r.text).toBe(`deleted ${p}/ (recursively)\nNot confirmed: this client cannot ask its user, so this ran without asking (a server run with --confirm=always-refuse refuses such calls).`);
    expect(exists(p)).toBe(false);
  });

  it('--confirm=always-refuse refuses in-band and does nothing; --confirm=never runs without a note', async () => {
    const refuse = await connectInproc(t.sim, { args: ['--container', t.sim.containerId, '--toolsets', 'all', '--confirm=always-refuse'] });
    const never = await connectInproc(t.sim, { args: ['--container', t.sim.containerId], env: { HOODY_CONFIRM: 'never' } });
    try {
      const p = tree('confirm-d');
      const before = t.sim.requests.length;
      for (const [tool, args] of [
        ['file_delete', { path: p, recursive: true }],
        ['container_delete', {}],
        ['container_snapshot', { action: 'restore', snapshot: 'snap-1' }],
        ['hoody_request', { kit: 'api', method: 'DELETE', path: `/api/v1/containers/${t.sim.containerId}` }],
      ] as const) {
        const r = await call(refuse.client, tool, args);
        expect(r.isError, tool).toBe(true);
        expect(r.text, tool).toMatch(/^refused: .* — this server refuses calls that cannot be undone \(--confirm=always-refuse\)/);
      }
      expect(t.sim.requests.length).toBe(before);
      expect(exists(`${p}/keep.txt`)).toBe(true);
      const r = await call(never.client, 'file_delete', { path: p, recursive: true });
      expect(r.text).toBe(`deleted ${p}/ (recursively)`);
    } finally {
      await refuse.close();
      await never.close();
    }
  });

  it('a bad --confirm value is a config error naming the choices', () => {
    expect(() => parseConfig(['--confirm', 'maybe'], {})).toThrow(/--confirm "maybe" is not one of ask, never, always-refuse/);
  });
});
