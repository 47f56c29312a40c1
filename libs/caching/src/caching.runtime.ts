import { maskUrlPassword, withTimeout, type AfterCommit } from '@infrastructure/core';
import { openRedis } from '@infrastructure/core/redis';
import { HealthRegistry, MetricsService, getLogger } from '@infrastructure/monitoring';
import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import type { Redis } from 'ioredis';
import type { ResolvedCachingOptions } from './caching.options.js';
import { INVALIDATION_CHANNEL } from './caching.constants.js';
import { CachingConfigError } from './errors.js';
import { InvalidationBus } from './invalidation/invalidation-bus.js';
import { LockService, MemoryLockService, RedisLockService } from './lock/lock.service.js';
import { CacheMetrics } from './metrics/cache.metrics.js';
import { TaggedJsonSerializer } from './serialization/cache-serializer.js';
import { FailOpenStore } from './stores/fail-open.store.js';
import { MemoryKeyvStore } from './stores/memory.store.js';
import { RedisKeyvStore } from './stores/redis.store.js';
import { TieredCacheStore } from './tiered-cache.store.js';

/** Keyv around a store whose values are already strings (ours): no second JSON layer. */
function passThroughKeyv(store: FailOpenStore): Keyv {
  const keyv = new Keyv({
    store,
    namespace: undefined,
    useKeyPrefix: false,
    throwOnErrors: true,
    serialize: ((d: { value: unknown }) => d.value as string) as never,
    deserialize: ((s: string) => ({ value: s })) as never,
  });
  keyv.on('error', () => {});
  return keyv;
}

/**
 * Everything one `CachingModule` owns: the connection(s), the tiers, the lock service, the
 * invalidation bus, metrics and the readiness check. Created once at boot.
 * @internal
 */
export class CachingRuntime implements OnModuleInit, OnApplicationShutdown {
  private warnedAt = 0;
  private suppressed = 0;

  private constructor(
    readonly options: ResolvedCachingOptions,
    readonly cache: TieredCacheStore,
    readonly lock: LockService,
    readonly cacheManager: Cache,
    readonly store: FailOpenStore,
    readonly bus: InvalidationBus,
    readonly metrics: CacheMetrics,
    readonly afterCommit: AfterCommit | undefined,
    private readonly health: HealthRegistry | undefined,
    private readonly client: Redis | undefined,
  ) {}

  static async create(
    options: ResolvedCachingOptions,
    metricsService: MetricsService | undefined,
    health: HealthRegistry | undefined,
    afterCommit: AfterCommit | undefined,
  ): Promise<CachingRuntime> {
    const logger = getLogger('Caching');
    let client: Redis | undefined;
    let inner;
    if (options.store === 'redis' && options.redis) {
      const opened = await openRedis({
        url: options.redis.url,
        connectTimeoutMs: options.redis.connectTimeoutMs,
        name: `${options.keyPrefix}${options.name}`,
        owner: 'CachingModule',
        source: 'options.redis.url (REDIS_URL)',
        configError: CachingConfigError,
        tls: options.redis.tls,
        tlsSource: 'options.redis.tls (REDIS_TLS_CA_FILE)',
        ...(options.redis.password
          ? { password: options.redis.password, passwordSource: 'options.redis.password' }
          : {}),
      });
      client = opened.client;
      if (!opened.reachable) {
        logger.warn(
          { url: maskUrlPassword(options.redis.url), err: opened.error?.message },
          'cache: Redis is not reachable at boot; starting degraded (reads go to the loaders) and reconnecting in the background',
        );
      }
      inner = new RedisKeyvStore(client, options.keyPrefix);
    } else {
      inner = new MemoryKeyvStore(options.memory.maxEntries);
    }
    // Set once the runtime exists (the store reports through it).
    let runtime: CachingRuntime | undefined;
    // The memory store answers in-process: no timeout, batch or circuit in front of it.
    const store = new FailOpenStore(
      inner,
      options.opTimeoutMs,
      options.circuit,
      {
        onFailure: (op, error) => runtime?.warnFailure(op, error),
        onCircuit: (state) => runtime?.circuitChanged(state),
      },
      inner instanceof MemoryKeyvStore,
    );
    const keyv = passThroughKeyv(store);
    const bus = new InvalidationBus(client, `${options.keyPrefix}${INVALIDATION_CHANNEL}`);
    const lock: LockService = client
      ? new RedisLockService(client, options.keyPrefix, Math.max(500, options.opTimeoutMs * 5))
      : new MemoryLockService();
    let cache: TieredCacheStore | undefined;
    const metrics = new CacheMetrics(options.name, metricsService, () => cache?.l1Size ?? 0);
    cache = new TieredCacheStore({
      options,
      keyv,
      store,
      bus,
      lock,
      serializer: options.serializer ?? new TaggedJsonSerializer(),
      metrics,
      logger,
      publish: client
        ? (channel, payload) => store.guard('publish', () => client.publish(channel, payload))
        : undefined,
    });
    // cache-manager over the same shared tier, for code written against @nestjs/cache-manager
    // (CACHE_MANAGER, its CacheInterceptor): bounded by the same timeouts and circuit.
    const compat = new Keyv({ store, namespace: `${options.keyPrefix}cm`, ttl: options.ttlMs });
    compat.on('error', () => {});
    const cacheManager = createCache({ stores: [compat], ttl: options.ttlMs });
    runtime = new CachingRuntime(
      options,
      cache,
      lock,
      cacheManager,
      store,
      bus,
      metrics,
      afterCommit,
      health,
      client,
    );
    await bus.start();
    client?.on('ready', () => store.circuit.reset());
    return runtime;
  }

  onModuleInit(): void {
    const client = this.client;
    if (!client || !this.health || !this.options.health.enabled) return;
    const timeoutMs = this.options.health.timeoutMs;
    this.health.register(
      'redis',
      async () => {
        const started = performance.now();
        try {
          await withTimeout(client.ping(), timeoutMs, `PING timed out after ${timeoutMs} ms`);
        } catch (error) {
          throw new Error(
            `Redis unavailable (cache serving from loaders): ${(error as Error).message}`,
            { cause: error },
          );
        }
        // Redis answers: no need to wait for cache traffic to probe the circuit.
        this.store.circuit.reset();
        return {
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
          circuit: this.store.circuit.state,
          l1Entries: this.cache.l1Size,
        };
      },
      { critical: this.options.health.critical, timeoutMs: timeoutMs + 100 },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.health?.unregister('redis');
    this.metrics.close();
    this.cache.close();
    await this.bus.close();
    this.client?.disconnect();
  }

  private warnFailure(op: string, error: Error): void {
    const now = Date.now();
    if (now - this.warnedAt < this.options.warnIntervalMs) {
      this.suppressed++;
      return;
    }
    getLogger('Caching').warn(
      { op, err: error.message, suppressed: this.suppressed, store: this.options.store },
      'cache: shared tier unavailable; reads go to the loaders, writes are skipped',
    );
    this.warnedAt = now;
    this.suppressed = 0;
  }

  private circuitChanged(state: 'open' | 'closed'): void {
    const log = getLogger('Caching');
    if (state === 'open') {
      log.warn(
        { cooldownMs: this.options.circuit.cooldownMs },
        'cache: circuit open, Redis is skipped until it answers again',
      );
      return;
    }
    log.info({}, 'cache: circuit closed, Redis answers again');
    void this.cache.replayPending();
  }
}
