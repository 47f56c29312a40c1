import { replaceMethod } from '@infrastructure/core';
import type { GetOrSetOptions } from '../cache-store.js';
import { injectRuntime, runtimeOf } from './decorator-runtime.js';

/** Options of {@link Cacheable}. */
export interface CacheableOptions<A extends unknown[] = any[]> extends Omit<
  GetOrSetOptions,
  'tags'
> {
  /** The key of a call, from the method's arguments: `(id: string) => \`order:${id}\`` */
  key: (...args: A) => string;
  /** Tags of the entry (static, or from the arguments). */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
}

/**
 * Cache-aside on an async method: a hit returns the cached value without calling it; a miss calls
 * it once (concurrent callers share the call) and caches the result. The class must be created by
 * Nest (a provider) in an app that imports `CachingModule`.
 *
 * @example
 * @Cacheable({ key: (id: string) => `order:${id}`, ttlMs: 30_000, tags: (id) => [`order:${id}`] })
 * async findOrder(id: string): Promise<OrderDto> { ... }
 */
export function Cacheable<A extends unknown[] = any[]>(
  options: CacheableOptions<A>,
): MethodDecorator {
  return (target, property, descriptor) => {
    injectRuntime(target);
    const original = descriptor.value as unknown as (...args: A) => unknown;
    const { key, tags } = options;
    // Built once: a hit then costs the key, one closure and an L1 lookup.
    const fixed = { ...options, tags: typeof tags === 'function' ? undefined : tags };
    return replaceMethod(descriptor, function (this: object, ...args: A) {
      const runtime = runtimeOf(this, 'Cacheable', property);
      return runtime.cache.getOrSet(
        key(...args),
        () => original.apply(this, args),
        typeof tags === 'function' ? { ...fixed, tags: tags(...args) } : fixed,
      );
    }) as never;
  };
}
