/**
 * A bounded map that forgets the least recently used entry first (reads and writes both count
 * as use). `onEvict` hears about entries pushed out by the bound, e.g. to close them.
 */
export class Lru<V> {
  readonly #m = new Map<string, V>();

  constructor(
    private readonly max: number,
    private readonly onEvict?: (value: V) => void,
  ) {}

  get(key: string): V | undefined {
    const v = this.#m.get(key);
    if (v !== undefined) {
      this.#m.delete(key);
      this.#m.set(key, v);
    }
    return v;
  }

  has(key: string): boolean {
    return this.#m.has(key);
  }

  set(key: string, value: V): void {
    this.#m.delete(key);
    this.#m.set(key, value);
    while (this.#m.size > this.max) {
      const [oldest, evicted] = this.#m.entries().next().value as [string, V];
      this.#m.delete(oldest);
      this.onEvict?.(evicted);
    }
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
    this.#m.delete(key);
  }

  values(): IterableIterator<V> {
    return this.#m.values();
  }

  clear(): void {
    this.#m.clear();
  }
}
