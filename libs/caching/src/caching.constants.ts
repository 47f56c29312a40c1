/** The resolved options (`ResolvedCachingOptions`). */
export const CACHING_OPTIONS = 'CACHING:OPTIONS';

/** The `CacheStore` under a string token, for `@Inject('CACHING:STORE')` where a class token does not fit. */
export const CACHING_STORE = 'CACHING:STORE';

/** The channel suffix of cross-instance L1 invalidations (after `redis.keyPrefix`). */
export const INVALIDATION_CHANNEL = 'invalidate';
