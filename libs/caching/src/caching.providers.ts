import { AfterCommit } from '@infrastructure/core';
import { HealthRegistry, MetricsService } from '@infrastructure/monitoring';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Provider } from '@nestjs/common';
import { CacheStore } from './cache-store.js';
import { CACHING_OPTIONS, CACHING_STORE } from './caching.constants.js';
import { CACHING_MODULE_OPTIONS } from './caching.module-definition.js';
import {
  resolveCachingOptions,
  type CachingOptions,
  type ResolvedCachingOptions,
} from './caching.options.js';
import { CachingRuntime } from './caching.runtime.js';
import { HttpCacheInterceptor } from './http/http-cache.interceptor.js';
import { LockService } from './lock/lock.service.js';

/** Validated options with defaults (a bad option fails the boot here, naming its key). */
export function optionsProvider(): Provider {
  return {
    provide: CACHING_OPTIONS,
    useFactory: (o: CachingOptions) => resolveCachingOptions(o),
    inject: [CACHING_MODULE_OPTIONS],
  };
}

/** Connections, tiers, lock service, invalidation bus, metrics and health. */
export function runtimeProvider(): Provider {
  return {
    provide: CachingRuntime,
    useFactory: (
      o: ResolvedCachingOptions,
      metrics?: MetricsService,
      health?: HealthRegistry,
      afterCommit?: AfterCommit,
    ) => CachingRuntime.create(o, metrics, health, afterCommit),
    inject: [
      CACHING_OPTIONS,
      { token: MetricsService, optional: true },
      { token: HealthRegistry, optional: true },
      // Persistence's unit of work when the app has one: write-through waits for the commit.
      { token: AfterCommit, optional: true },
    ],
  };
}

/** The `CacheStore` port. */
export function cacheStoreProvider(): Provider {
  return {
    provide: CacheStore,
    useFactory: (r: CachingRuntime) => r.cache,
    inject: [CachingRuntime],
  };
}

/** `CacheStore` under the string token `CACHING:STORE`. */
export function cacheStoreAliasProvider(): Provider {
  return { provide: CACHING_STORE, useExisting: CacheStore };
}

/** The `LockService` port. */
export function lockServiceProvider(): Provider {
  return {
    provide: LockService,
    useFactory: (r: CachingRuntime) => r.lock,
    inject: [CachingRuntime],
  };
}

/** cache-manager's `Cache` under @nestjs/cache-manager's `CACHE_MANAGER` token, over the same shared tier. */
export function cacheManagerProvider(): Provider {
  return {
    provide: CACHE_MANAGER,
    useFactory: (r: CachingRuntime) => r.cacheManager,
    inject: [CachingRuntime],
  };
}

/** The response-caching interceptor (use it with `@UseInterceptors(HttpCacheInterceptor)`). */
export function interceptorProvider(): Provider {
  return HttpCacheInterceptor;
}
