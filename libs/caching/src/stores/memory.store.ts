import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { LruCache } from '../l1/lru-cache.js';

/**
 * The shared tier of `store: 'memory'`: serialized payloads in a size-bounded LRU with expiry, so
 * values are copies (as with Redis) and the same contract holds on both stores. One per process.
 */
export class MemoryKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  opts: Record<string, unknown> = { dialect: 'memory' };
  namespace?: string;
  private readonly lru: LruCache<unknown>;

  constructor(maxEntries: number) {
    super();
    this.lru = new LruCache(maxEntries);
  }

  get size(): number {
    return this.lru.size;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.lru.get(key) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const now = Date.now();
    return keys.map((k) => this.lru.get(k, now) as StoredData<Value | undefined>);
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    this.lru.set(key, value, typeof ttl === 'number' && ttl > 0 ? ttl : Infinity);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.lru.delete(key);
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    let any = false;
    for (const k of keys) any = this.lru.delete(k) || any;
    return any;
  }

  async has(key: string): Promise<boolean> {
    return this.lru.get(key) !== undefined;
  }

  async clear(): Promise<void> {
    this.lru.clear();
  }
}
