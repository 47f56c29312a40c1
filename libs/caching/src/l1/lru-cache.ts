/** One in-process entry. `expiresAt` is an epoch in ms (Infinity: never). */
interface Slot<V> {
  value: V;
  expiresAt: number;
}

/**
 * A size-bounded LRU with per-entry expiry over a `Map` (whose insertion order is the recency
 * order). `get` of an expired entry deletes it; `set` beyond `maxEntries` evicts the least
 * recently used. `onEvict` hears every removal (to keep side indexes such as tags in step).
 */
export class LruCache<V> {
  private readonly map = new Map<string, Slot<V>>();

  constructor(
    readonly maxEntries: number,
    private readonly onEvict?: (key: string, value: V) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The value, or undefined when absent or expired. Marks it most recently used. */
  get(key: string, now = Date.now()): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now) {
      this.remove(key, slot);
      return undefined;
    }
    // Re-insert to move it to the most recent end; cheap on V8's ordered hash map.
    this.map.delete(key);
    this.map.set(key, slot);
    return slot.value;
  }

  /** Reads without touching recency or expiry. */
  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    const old = this.map.get(key);
    if (old !== undefined) this.remove(key, old);
    this.map.set(key, { value, expiresAt: ttlMs === Infinity ? Infinity : now + ttlMs });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.remove(oldest, this.map.get(oldest)!);
    }
  }

  delete(key: string): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    this.remove(key, slot);
    return true;
  }

  clear(): void {
    if (this.onEvict) for (const [key, slot] of this.map) this.onEvict(key, slot.value);
    this.map.clear();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  private remove(key: string, slot: Slot<V>): void {
    this.map.delete(key);
    this.onEvict?.(key, slot.value);
  }
}
