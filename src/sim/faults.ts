/** Fault injection: a matching fault answers a request instead of the real handler. */
import type { FaultSpec, Faults } from './types.js';

interface Armed {
  spec: FaultSpec;
  left: number;
}

export class FaultRegistry implements Faults {
  private armed: Armed[] = [];

  add(spec: FaultSpec): void {
    this.armed.push({ spec: { ...spec }, left: spec.times ?? 1 });
  }

  clear(): void {
    this.armed = [];
  }

  pending(): number {
    return this.armed.reduce((n, a) => n + a.left, 0);
  }

  /** Consumes and returns the first fault matching this request, if any. */
  take(target: string, method: string, path: string): FaultSpec | undefined {
    for (const a of this.armed) {
      const s = a.spec;
      if (s.target !== '*' && s.target !== target) continue;
      if (s.method && s.method.toUpperCase() !== method) continue;
      if (s.path !== undefined) {
        if (typeof s.path === 'string' ? !path.startsWith(s.path) : !s.path.test(path)) continue;
      }
      a.left -= 1;
      if (a.left <= 0) this.armed = this.armed.filter((x) => x !== a);
      return s;
    }
    return undefined;
  }
}
