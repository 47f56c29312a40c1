import { maskUrlPassword } from '@infrastructure/configuration';
import { withTimeout } from '@infrastructure/monitoring';
import { loadDriver } from '@infrastructure/persistence';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import { CachingConfigError } from '../errors.js';

/** Settings of a Redis connection opened by {@link openRedis}. */
export interface RedisConnectionSettings {
  url: string;
  connectTimeoutMs: number;
  /** Connection name shown by `CLIENT LIST`. */
  name: string;
  /** Bound of each command (ioredis `commandTimeout`). @default none */
  commandTimeoutMs?: number;
  /** Who opens it, in errors. @default 'CachingModule' */
  owner?: string;
  /** The option (and variable) the URL came from, in errors. @default 'options.redis.url (REDIS_URL)' */
  source?: string;
  /** The error class of an unusable URL or a refused password. @default CachingConfigError */
  configError?: new (message: string, options?: ErrorOptions) => Error;
}

const AUTH_ERROR = /WRONGPASS|NOAUTH|invalid password|invalid username/i;

/**
 * Opens an ioredis connection for a fail-fast user (the cache, the webhook replay store):
 * commands fail at once while disconnected (no offline queue: nothing queues behind an outage),
 * reconnects forever with a capped backoff, and waits up to `connectTimeoutMs` for the first
 * connection.
 *
 * A wrong password, or a URL ioredis cannot use, fails with `configError` naming the `source`;
 * a server that is merely unreachable does not (the user starts degraded and recovers when Redis
 * comes back): `reachable` tells which.
 */
/**
 * ioredis 6 speaks RESP3 unless told otherwise; 5 (the line typeorm's peer range allows) only
 * speaks RESP2 and has no `protocol` option. Spread in, it pins RESP2 on both.
 */
export const RESP2: object = { protocol: 2 };

export async function openRedis(
  settings: RedisConnectionSettings,
): Promise<{ client: Redis; reachable: boolean; error?: Error }> {
  const owner = settings.owner ?? 'CachingModule';
  const source = settings.source ?? 'options.redis.url (REDIS_URL)';
  const ConfigError = settings.configError ?? CachingConfigError;
  const { Redis } = await loadDriver<typeof IORedis>('ioredis', `${owner} Redis`);
  let client: Redis;
  try {
    client = new Redis(settings.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: settings.connectTimeoutMs,
      connectionName: settings.name,
      ...(settings.commandTimeoutMs ? { commandTimeout: settings.commandTimeoutMs } : {}),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      // RESP2: plain replies (MGET arrays, pub/sub messages) on every server version.
      ...RESP2,
    });
  } catch (error) {
    throw new ConfigError(
      `${owner}: ${source} is not usable (${maskUrlPassword(settings.url)}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  // The reason (WRONGPASS, ECONNREFUSED...) arrives as an 'error' event; connect() only says
  // "Connection is closed".
  let lastError: Error | undefined;
  const remember = (e: Error) => (lastError = e);
  client.on('error', remember);
  try {
    await withTimeout(
      client.connect(),
      settings.connectTimeoutMs,
      `no connection within ${settings.connectTimeoutMs} ms`,
    );
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
      throw new ConfigError(
        `${owner}: ${source} was refused by Redis at ${maskUrlPassword(settings.url)}: ${message}. Check the user and password.`,
        { cause: error },
      );
    }
    // Unreachable: keep the client (it reconnects in the background); the cache runs degraded.
    if (client.status === 'wait') client.connect().catch(() => {});
    return { client, reachable: false, error };
  }
}

/** `redis://user:***@host:port/db` for logs. */
export function redactRedisUrl(url: string): string {
  return maskUrlPassword(url);
}
