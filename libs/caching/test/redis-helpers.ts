import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix of its own per test file: the Redis is shared with tests running in parallel. */
export function testPrefix(label: string): string {
  return `cache-int-${label}-${randomUUID().slice(0, 8)}:`;
}

/** Removes every key under `prefix` (never FLUSHALL: other files use the same Redis). */
export async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
