import { maskUrlPassword } from '@infrastructure/configuration';
import { loadDriver } from '@infrastructure/persistence';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import { CachingConfigError } from '../errors.js';

/** Settings of the connections the caching lib opens. */
export interface RedisConnectionSettings {
  url: string;
  connectTimeoutMs: number;
  /** Connection name shown by `CLIENT LIST`. */
  name: string;
}

const AUTH_ERROR = /WRONGPASS|NOAUTH|invalid password|invalid username/i;

/** Where the URL came from, for error messages. */
const SOURCE = 'options.redis.url (REDIS_URL)';

/**
 * Opens an ioredis connection for the cache: commands fail at once while disconnected (no
 * offline queue: a cache must not queue reads behind an outage), reconnects forever with a capped
 * backoff, and waits up to `connectTimeoutMs` for the first connection.
 *
 * A wrong password, or a URL ioredis cannot use, fails with {@link CachingConfigError} naming
 * `REDIS_URL`; a server that is merely unreachable does not (the cache starts degraded and
 * recovers when Redis comes back): `reachable` tells which.
 */
export async function openRedis(
  settings: RedisConnectionSettings,
): Promise<{ client: Redis; reachable: boolean; error?: Error }> {
  const { Redis } = await loadDriver<typeof IORedis>('ioredis', 'CachingModule store "redis"');
  let client: Redis;
  try {
    client = new Redis(settings.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: settings.connectTimeoutMs,
      connectionName: settings.name,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      // RESP2: plain replies (MGET arrays, pub/sub messages) on every server version.
      protocol: 2,
    });
  } catch (error) {
    throw new CachingConfigError(
      `CachingModule: ${SOURCE} is not usable (${maskUrlPassword(settings.url)}): ${(error as Error).message}`,
    );
  }
  // The reason (WRONGPASS, ECONNREFUSED...) arrives as an 'error' event; connect() only says
  // "Connection is closed".
  let lastError: Error | undefined;
  const remember = (e: Error) => (lastError = e);
  client.on('error', remember);
  try {
    await withTimeout(client.connect(), settings.connectTimeoutMs);
    client.off('error', remember);
    client.on('error', () => {});
    return { client, reachable: true };
  } catch (caught) {
    client.off('error', remember);
    client.on('error', () => {});
    const error = lastError ?? (caught as Error);
    const message = error.message ?? String(error);
    if (AUTH_ERROR.test(message)) {
      client.disconnect();
      throw new CachingConfigError(
        `CachingModule: ${SOURCE} was refused by Redis at ${maskUrlPassword(settings.url)}: ${message}. Check the user and password in REDIS_URL.`,
      );
    }
    // Unreachable: keep the client (it reconnects in the background); the cache runs degraded.
    if (client.status === 'wait') client.connect().catch(() => {});
    return { client, reachable: false, error };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `redis://user:***@host:port/db` for logs. */
export function redactRedisUrl(url: string): string {
  return maskUrlPassword(url);
}
