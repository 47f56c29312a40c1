import type { Redis } from 'ioredis';
import {
  TimeoutError,
  withTimeout,
  type RedisClient,
  type SecretReference,
} from '@infrastructure/core';
import { createRedisClient } from '@infrastructure/core/redis';
import { getLogger } from '@infrastructure/monitoring';
import { RevocationStoreUnavailableError } from '../errors.js';
import { RevocationStore } from '../revocation-store.js';

/** Options of {@link RedisRevocationStore}: a client, or a URL to open one. */
export interface RedisRevocationStoreOptions {
  /** A connected ioredis client (shared with the caching lib); not closed by `close()`. */
  client?: RedisClient;
  /** `redis://` / `rediss://` URL; the store opens (and closes) its own client. */
  url?: string;
  /**
   * TLS of a `rediss://` `url`: the CA that signed the server's certificate (`ca`: PEM, or
   * `caFile`: its path), trusted instead of Node's default CAs. Beside a `redis://` URL or a
   * `client` the constructor throws (it would silently not be used).
   * @default none (Node's default CAs)
   */
  tls?: { ca?: string | Buffer; caFile?: string };
  /**
   * With `url`: the password from a rotating secret instead of the URL's (`{ secrets, name }`),
   * applied to every reconnection. @default the URL's password
   */
  password?: SecretReference;
  /** Prefix of every key. @default 'security:revoked:' */
  keyPrefix?: string;
  /**
   * Longest wait for one Redis operation; past it the operation fails with
   * RevocationStoreUnavailableError (then the JwtManager's failure mode decides).
   * @default 250
   */
  opTimeoutMs?: number;
}

/**
 * Revocations in Redis, shared by every instance: one key per revoked id, with a TTL equal to the
 * token's remaining lifetime, so Redis forgets it when the token would have expired anyway.
 * `revoke` is one atomic `SET key 1 EX ttl NX` (its reply says whether this call revoked it,
 * which is how a refresh token's second use is detected across instances); `isRevoked` is one
 * `EXISTS k1 k2`. Every operation has a deadline: a dead or hung Redis fails fast instead of
 * holding requests.
 */
export class RedisRevocationStore extends RevocationStore {
  private client?: Promise<Redis>;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly log = getLogger('RedisRevocationStore');
  private lastErrorLogAt = -Infinity;

  constructor(private readonly options: RedisRevocationStoreOptions) {
    super();
    if (!options.client === !options.url) {
      throw new TypeError(
        'RedisRevocationStore: pass exactly one of options.client or options.url',
      );
    }
    if (options.url !== undefined && !/^rediss?:\/\//.test(options.url)) {
      throw new TypeError('RedisRevocationStore: options.url must be a redis:// or rediss:// URL');
    }
    if (options.tls && options.url !== undefined && !/^rediss:\/\//i.test(options.url)) {
      throw new TypeError(
        'RedisRevocationStore: options.tls is set but options.url is not a rediss:// URL',
      );
    }
    if (options.tls && options.client) {
      throw new TypeError(
        'RedisRevocationStore: options.tls applies to options.url; a client passed in brings its own TLS settings',
      );
    }
    this.owned = !options.client;
    if (options.client) this.client = Promise.resolve(options.client as Redis);
    this.prefix = options.keyPrefix ?? 'security:revoked:';
    this.timeoutMs = options.opTimeoutMs ?? 250;
  }

  async revoke(id: string, ttlSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const reply = await this.run('revoke', (r) => r.set(this.prefix + id, '1', 'EX', ttl, 'NX'));
    return reply === 'OK';
  }

  async isRevoked(ids: readonly string[]): Promise<boolean> {
    if (ids.length === 0) return false;
    const count = await this.run('isRevoked', (r) =>
      r.exists(...ids.map((id) => this.prefix + id)),
    );
    return count > 0;
  }

  override async close(): Promise<void> {
    if (!this.owned || !this.client) return;
    const client = await this.client;
    this.client = undefined;
    await client.quit().catch(() => client.disconnect());
  }

  private connect(): Promise<Redis> {
    this.client ??= createRedisClient(
      this.options.url!,
      {
        // Commands wait for a (re)connection at most this long, then fail: the deadline below
        // bounds them anyway, this keeps the offline queue from growing while Redis is down.
        commandTimeout: this.timeoutMs,
        maxRetriesPerRequest: 1,
        connectTimeout: Math.max(1000, this.timeoutMs * 4),
      },
      {
        owner: 'RedisRevocationStore',
        source: 'options.url',
        ...(this.options.tls ? { tls: this.options.tls, tlsSource: 'options.tls' } : {}),
        ...(this.options.password
          ? { password: this.options.password, passwordSource: 'options.password' }
          : {}),
      },
    ).then((client) => {
      // Connection errors are also answered per operation; this only keeps them out of stderr
      // and logs them (at most every 30 s; the URL, which may hold a password, is never logged).
      client.on('error', (e: Error) => {
        const now = Date.now();
        if (now - this.lastErrorLogAt < 30_000) return;
        this.lastErrorLogAt = now;
        this.log.warn({ err: e }, 'RedisRevocationStore: Redis connection error');
      });
      return client;
    });
    return this.client;
  }

  private async run<T>(op: string, command: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(
        this.connect().then(command),
        this.timeoutMs,
        () => `RedisRevocationStore: ${op} got no answer within ${this.timeoutMs} ms`,
      );
    } catch (e) {
      if (e instanceof TimeoutError) throw new RevocationStoreUnavailableError(e.message);
      throw new RevocationStoreUnavailableError(
        `RedisRevocationStore: ${op} failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}
