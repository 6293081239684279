/** The subscriptions gauge (src/mcp/subscriptions.ts) counts what is subscribed, also when a subscriber leaves while its watch starts. */
import { afterEach, describe, expect, it } from 'vitest';
import { defineResource } from '../../src/mcp/define-resource.js';
import { createSubscriptions } from '../../src/mcp/subscriptions.js';
import { attach } from '../../src/observe.js';

let gauge = 0;
const detach = attach({ gauge: (name, d) => name === 'subscriptions' && (gauge += d) });
afterEach(() => {
  gauge = 0;
});

/** A watchable resource whose watch starts when the test says, and fails or not. */
function slowResource() {
  const starts: { ok(): void; fail(): void }[] = [];
  const r = defineResource<unknown>({
    name: 'thing',
    uri: 'test://things/{id}',
    title: 'thing',
    description: 'thing',
    read: async () => ({ contents: [] }),
    subscribe: () => new Promise<void>((ok, fail) => starts.push({ ok: () => ok(), fail: () => fail(new Error('no such thing')) })),
  });
  return { subs: createSubscriptions([r], () => undefined, () => undefined), starts };
}

describe('subscriptions gauge', () => {
  it('a subscriber that leaves while the watch starts is taken back, whether the start then works or fails', async () => {
    for (const outcome of ['ok', 'fail'] as const) {
      const { subs, starts } = slowResource();
      const added = subs.add('test://things/1').catch(() => undefined);
      expect(gauge).toBe(1);
      subs.remove('test://things/1');
      expect(gauge).toBe(0);
      starts[0]![outcome]();
      await added;
      expect(gauge, outcome).toBe(0);
    }
  });

  it('a start that fails takes back every subscriber counted while it started', async () => {
    const { subs, starts } = slowResource();
    const a = subs.add('test://things/2').catch(() => undefined);
    const b = subs.add('test://things/2');
    await b;
    expect(gauge).toBe(2);
    starts[0]!.fail();
    await a;
    expect(gauge).toBe(0);
    subs.add('test://things/3').catch(() => undefined);
    starts[1]!.ok();
    await new Promise((r) => setImmediate(r));
    expect(gauge).toBe(1);
    subs.close();
    expect(gauge).toBe(0);
    detach();
  });
});
