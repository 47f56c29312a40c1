import { maskUrlPassword, type SecretReference } from '@infrastructure/core';
import { openRedis, watchRedisConnection } from '@infrastructure/core/redis';
import { getLogger } from '@infrastructure/monitoring';
import type { Redis } from 'ioredis';
import { WebhookReplayStoreUnavailableError, WebhooksConfigError } from '../errors.js';
import { WebhookReplayStore } from '../webhook-replay.store.js';

/** Settings of {@link RedisWebhookReplayStore.connect}. */
export interface RedisReplayConnectOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** The password from a rotating secret instead of the URL's. @default the URL's password */
  password?: SecretReference;
  /** Prefix of every key (`<prefix><receiver>:<webhook id>`). @default 'webhooks:replay:' */
  keyPrefix?: string;
  /** Wait for the first connection, and bound of each command. @default 1000 */
  timeoutMs?: number;
  /** TLS of a `rediss://` URL: the CA to trust instead of Node's default CAs. */
  tls?: { ca?: string | Buffer; caFile?: string };
}

/**
 * {@link WebhookReplayStore} on Redis, shared by every instance: `SET <prefix><id> 1 NX EX <ttl>`
 * is the atomic claim, `DEL` the release. Fails closed: Redis down or slow →
 * `WebhookReplayStoreUnavailableError` (the guard answers 503, the sender retries), never an
 * unchecked accept. Commands fail at once while disconnected (no offline queue); the client
 * reconnects in the background.
 */
export class RedisWebhookReplayStore extends WebhookReplayStore {
  private readonly log = getLogger('RedisWebhookReplayStore');

  constructor(
    private readonly client: Redis,
    private readonly keyPrefix = 'webhooks:replay:',
    /** Whether `close()` disconnects the client (true when `connect` opened it). */
    private readonly owned = false,
  ) {
    super();
  }

  /**
   * Opens a dedicated connection (ioredis, loaded on demand). A refused password fails with
   * `WebhooksConfigError`; an unreachable server does not fail the boot (claims answer 503 until
   * it is back).
   */
  static async connect(options: RedisReplayConnectOptions): Promise<RedisWebhookReplayStore> {
    const timeoutMs = options.timeoutMs ?? 1000;
    const { client, reachable, error } = await openRedis({
      url: options.url,
      connectTimeoutMs: timeoutMs,
      commandTimeoutMs: timeoutMs,
      name: 'webhooks-replay',
      owner: 'WebhooksModule',
      source: 'options.replay.url',
      configError: WebhooksConfigError,
      tlsSource: 'options.replay.tls (WEBHOOK_REPLAY_REDIS_TLS_CA_FILE)',
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.password
        ? { password: options.password, passwordSource: 'options.replay.password' }
        : {}),
    });
    const log = getLogger('RedisWebhookReplayStore');
    watchRedisConnection(client, log, 'WebhooksModule (replay store)');
    if (!reachable) {
      log.warn(
        { redis: maskUrlPassword(options.url), reason: error?.message },
        'Redis unreachable at boot: webhooks are refused with 503 until it is back',
      );
    }
    return new RedisWebhookReplayStore(client, options.keyPrefix ?? 'webhooks:replay:', true);
  }

  async claim(id: string, ttlSeconds: number): Promise<boolean> {
    try {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      return (await this.client.set(`${this.keyPrefix}${id}`, '1', 'EX', ttl, 'NX')) === 'OK';
    } catch (error) {
      throw new WebhookReplayStoreUnavailableError({ cause: error });
    }
  }

  async release(id: string): Promise<void> {
    try {
      await this.client.del(`${this.keyPrefix}${id}`);
    } catch (error) {
      // The sender's retry will be refused as a replay until the TTL passes: worth a warning.
      this.log.warn({ err: error }, 'could not release a webhook id after a failed delivery');
    }
  }

  override async close(): Promise<void> {
    if (!this.owned) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
