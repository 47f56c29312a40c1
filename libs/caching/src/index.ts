// Module and configuration
export { CachingModule } from './caching.module.js';
export { CACHING_MODULE_OPTIONS } from './caching.module-definition.js';
export { CACHING_OPTIONS, CACHING_STORE } from './caching.constants.js';
export type { CachingExtras, CachingOptions, ResolvedCachingOptions } from './caching.options.js';
export { resolveCachingOptions } from './caching.options.js';
export { cachingConfig, cachingOptionsFrom } from './caching.config.js';

// Ports
export {
  CacheStore,
  type CacheSetOptions,
  type GetOrSetOptions,
  type WrapOptions,
} from './cache-store.js';
export { LockService, type LockHandle, type WithLockOptions } from './lock/lock.service.js';

// Implementations (for tests, benchmarks and manual wiring)
export { TieredCacheStore } from './tiered-cache.store.js';
export type { InvalidationMessage } from './invalidation/invalidation-bus.js';

// Decorators and HTTP
export { Cacheable, type CacheableOptions } from './decorators/cacheable.decorator.js';
export { CacheEvict, type CacheEvictOptions } from './decorators/cache-evict.decorator.js';
export { CachePut, type CachePutOptions } from './decorators/cache-put.decorator.js';
export { HttpCacheInterceptor, requestCacheKey } from './http/http-cache.interceptor.js';
export {
  CACHE_RESPONSE,
  CacheResponse,
  type CacheResponseOptions,
} from './http/cache-response.decorator.js';

// Serialization and keys
export { TaggedJsonSerializer, type CacheSerializer } from './serialization/cache-serializer.js';
export { normalizeKey } from './keys.js';

// Errors
export {
  CacheNotConfiguredError,
  CacheSerializationError,
  CacheTimeoutError,
  CachingConfigError,
  CircuitOpenError,
  LockNotAcquiredError,
  LockUnavailableError,
  MissingDependencyError,
} from './errors.js';
