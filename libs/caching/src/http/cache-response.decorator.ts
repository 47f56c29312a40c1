import { SetMetadata } from '@nestjs/common';

/** Metadata key of {@link CacheResponse}. */
export const CACHE_RESPONSE = 'caching:response';

/** Options of {@link CacheResponse}. */
export interface CacheResponseOptions {
  /** Freshness of a cached response (ms). @default the module's `ttlMs` */
  ttlMs?: number;
  /** Tags of the cached responses (static). */
  tags?: readonly string[];
  /**
   * Who the response is for, part of the key. @default `request.user.id ?? request.user.sub`;
   * a request with `Authorization` or `Cookie` but no identity is never cached.
   */
  vary?: (request: any) => string | undefined;
}

/**
 * Marks a GET route (or controller) for {@link HttpCacheInterceptor} and sets its options.
 * @example
 * @Get(':id') @CacheResponse({ ttlMs: 5_000 }) @UseInterceptors(HttpCacheInterceptor)
 */
export const CacheResponse = (options: CacheResponseOptions = {}) =>
  SetMetadata(CACHE_RESPONSE, options);
