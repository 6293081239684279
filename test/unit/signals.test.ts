/** linked(): AbortSignal.any's behaviour (first reason wins, an aborted source aborts at once), and nothing left on the sources after unlink. */
import { describe, expect, it } from 'vitest';
import { linked } from '../../src/signals.js';

describe('linked', () => {
  it('aborts with the reason of the first source that aborts; the controller can abort it too', () => {
    const a = new AbortController();
    const b = new AbortController();
    const l = linked(a.signal, undefined, b.signal);
    expect(l.signal.aborted).toBe(false);
    b.abort('b went');
    a.abort('a went');
    expect(l.signal.reason).toBe('b went');
    const own = linked(a.signal);
    expect(own.signal.reason).toBe('a went'); // already aborted: at once
    const d = linked(new AbortController().signal);
    d.controller.abort('deadline');
    expect(d.signal.reason).toBe('deadline');
  });

  it('unlink: a source aborting later no longer reaches it', () => {
    const a = new AbortController();
    const l = linked(a.signal);
    l.unlink();
    a.abort('late');
    expect(l.signal.aborted).toBe(false);
  });
});
