/**
 * A bounded map that forgets the least recently used entry first (reads and writes both count
 * as use). `onEvict` hears about entries pushed out by the bound, e.g. to close them.
 */
export class Lru<V> {
  protected readonly entries = new Map<string, V>();

  constructor(
    private readonly max: number,
    protected readonly onEvict?: (value: V) => void,
  ) {}

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.trim();
  }

  /** The value under `key`, made (and remembered) if there is none. */
  getOrCreate(key: string, make: () => V): V {
    let v = this.get(key);
    if (v === undefined) {
      v = make();
      this.set(key, v);
    }
    return v;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  values(): IterableIterator<V> {
    return this.entries.values();
  }

  clear(): void {
    this.entries.clear();
  }

  /** Forget the least recently used entries beyond the bound. */
  protected trim(): void {
    while (this.entries.size > this.max) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, V];
      this.entries.delete(oldest);
      this.onEvict?.(evicted);
    }
  }
}

/**
 * Per-credential state that a made-up credential cannot push out: entries live in a small trial
 * pool until `trusted(v)` says the upstream accepted their credential, then in a larger trusted
 * pool; each pool forgets its least recently used entry first, and never one that is `busy`
 * (an open stream, a call in flight) — a pool of busy entries grows instead of cutting one off.
 */
export class Tenants<V> extends Lru<V> {
  constructor(
    private readonly opts: {
      trial: number;
      trusted: number;
      isTrusted(v: V): boolean;
      isBusy?(v: V): boolean;
      onEvict?(v: V): void;
    },
  ) {
    super(Infinity, opts.onEvict);
  }

  protected override trim(): void {
    const trusted: [string, V][] = [];
    const trial: [string, V][] = [];
    for (const e of this.entries) (this.opts.isTrusted(e[1]) ? trusted : trial).push(e);
    for (const [pool, max] of [[trial, this.opts.trial], [trusted, this.opts.trusted]] as const) {
      let over = pool.length - max;
      for (const [k, v] of pool) {
        if (over <= 0) break;
        if (this.opts.isBusy?.(v)) continue;
        this.entries.delete(k);
        this.onEvict?.(v);
        over--;
      }
    }
  }
}
