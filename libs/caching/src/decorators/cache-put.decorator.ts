import { replaceMethod } from '@infrastructure/core';
import type { CacheSetOptions } from '../cache-store.js';
import { afterCommit, injectRuntime, runtimeOf } from './decorator-runtime.js';

/** Options of {@link CachePut}. */
export interface CachePutOptions<A extends unknown[] = any[], R = any> extends Omit<
  CacheSetOptions,
  'tags'
> {
  /** The key to write, from the call's arguments and result. */
  key: (args: A, result: R) => string;
  /** What to cache. @default the method's result */
  value?: (args: A, result: R) => unknown;
  /** Tags of the entry. */
  tags?: readonly string[] | ((args: A, result: R) => readonly string[]);
}

/**
 * Write-through: runs the method (which writes to the source of truth) and then writes its result
 * to the cache — in that order, and inside a unit of work (`@Transactional()`) only after the
 * commit (a rollback caches nothing). The cache write replaces the key in every instance's L1.
 *
 * @example
 * @Transactional()
 * @CachePut({ key: (_args, order) => `order:${order.id}`, tags: (_a, o) => [`order:${o.id}`] })
 * async rename(id: string, name: string): Promise<OrderDto> { ... }
 */
export function CachePut<A extends unknown[] = any[], R = any>(
  options: CachePutOptions<A, R>,
): MethodDecorator {
  return (target, property, descriptor) => {
    injectRuntime(target);
    const original = descriptor.value as unknown as (...args: A) => Promise<R> | R;
    return replaceMethod(descriptor, async function (this: object, ...args: A) {
      const runtime = runtimeOf(this, 'CachePut', property);
      const result = await original.apply(this, args);
      const key = options.key(args, result);
      const value = options.value ? options.value(args, result) : result;
      const tags = typeof options.tags === 'function' ? options.tags(args, result) : options.tags;
      await afterCommit(runtime, () =>
        runtime.cache.set(key, value, {
          ttlMs: options.ttlMs,
          tags,
          staleWhileRevalidateMs: options.staleWhileRevalidateMs,
          graceMs: options.graceMs,
        }),
      );
      return result;
    }) as never;
  };
}
