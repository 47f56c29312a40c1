import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Module, type DynamicModule } from '@nestjs/common';
import { extendModule } from '@infrastructure/core';
import { CacheStore } from './cache-store.js';
import { CACHING_OPTIONS, CACHING_STORE } from './caching.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './caching.module-definition.js';
import {
  cacheManagerProvider,
  cacheStoreAliasProvider,
  cacheStoreProvider,
  interceptorProvider,
  lockServiceProvider,
  optionsProvider,
  runtimeProvider,
} from './caching.providers.js';
import { CachingRuntime } from './caching.runtime.js';
import { HttpCacheInterceptor } from './http/http-cache.interceptor.js';
import { LockService } from './lock/lock.service.js';

function withCaching(module: DynamicModule): DynamicModule {
  return extendModule(module, {
    providers: [
      optionsProvider(),
      runtimeProvider(),
      cacheStoreProvider(),
      cacheStoreAliasProvider(),
      lockServiceProvider(),
      cacheManagerProvider(),
      interceptorProvider(),
    ],
    exports: [
      CACHING_OPTIONS,
      CachingRuntime,
      CacheStore,
      CACHING_STORE,
      LockService,
      CACHE_MANAGER,
      HttpCacheInterceptor,
    ],
  });
}

/**
 * Caching over memory or Redis: the `CacheStore` port (cache-aside, write-through, tags,
 * single-flight, stale-while-revalidate, grace), an in-process L1 kept coherent across instances,
 * `LockService`, `@Cacheable` / `@CacheEvict` / `@CachePut`, HTTP response caching, metrics and
 * a `redis` readiness check. Redis failures never hang or fail a request: the cache fails open.
 */
@Module({})
export class CachingModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withCaching(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withCaching(super.forRootAsync(options));
  }
}
