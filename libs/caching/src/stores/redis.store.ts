import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/**
 * A Keyv store over an ioredis client: one command per operation (`GET`, `MGET`, `SET … PX`,
 * `UNLINK`), no per-call wrapper objects. Keys arrive fully prefixed; `clear()` removes only keys
 * under `keyPrefix` (SCAN + UNLINK, for tests and admin use, not the request path).
 */
export class RedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  opts: Record<string, unknown> = { dialect: 'redis' };
  namespace?: string;

  constructor(
    readonly client: Redis,
    private readonly keyPrefix: string,
  ) {
    super();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const v = await this.client.get(key);
    return (v ?? undefined) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    if (keys.length === 0) return [];
    const values = await this.client.mget(keys);
    return values.map((v) => (v ?? undefined) as StoredData<Value | undefined>);
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const data = value as string;
    if (typeof ttl === 'number' && ttl > 0) await this.client.set(key, data, 'PX', Math.ceil(ttl));
    else await this.client.set(key, data);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.unlink(key)) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    return (await this.client.unlink(...keys)) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.client.exists(key)) > 0;
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(
        cursor,
        'MATCH',
        `${this.keyPrefix}*`,
        'COUNT',
        500,
      );
      cursor = next;
      if (keys.length) await this.client.unlink(...keys);
    } while (cursor !== '0');
  }

  async disconnect(): Promise<void> {
    this.client.disconnect();
  }
}
