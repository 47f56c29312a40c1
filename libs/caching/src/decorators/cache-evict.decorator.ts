import { replaceMethod } from '@infrastructure/core';
import { afterCommit, injectRuntime, runtimeOf } from './decorator-runtime.js';

/** Options of {@link CacheEvict}: what to evict, from the call's arguments and result. */
export interface CacheEvictOptions<A extends unknown[] = any[], R = any> {
  /** Keys to delete. */
  keys?: (args: A, result: R) => string | readonly string[];
  /** Tags to invalidate. */
  tags?: readonly string[] | ((args: A, result: R) => readonly string[]);
}

/**
 * Evicts keys and/or tags **after the method succeeded** (nothing when it throws); inside a unit
 * of work (`@Transactional()`), after the commit, so no reader can re-cache the old row in between.
 *
 * @example
 * @CacheEvict({ keys: ([id]) => `order:${id}`, tags: ([id]) => [`order:${id}`] })
 * async cancel(id: string): Promise<void> { ... }
 */
export function CacheEvict<A extends unknown[] = any[], R = any>(
  options: CacheEvictOptions<A, R>,
): MethodDecorator {
  return (target, property, descriptor) => {
    injectRuntime(target);
    const original = descriptor.value as unknown as (...args: A) => Promise<R> | R;
    return replaceMethod(descriptor, async function (this: object, ...args: A) {
      const runtime = runtimeOf(this, 'CacheEvict', property);
      const result = await original.apply(this, args);
      const keys = options.keys?.(args, result);
      const tags = typeof options.tags === 'function' ? options.tags(args, result) : options.tags;
      await afterCommit(runtime, async () => {
        if (keys !== undefined) await runtime.cache.delete(keys);
        if (tags?.length) await runtime.cache.invalidateTags(tags);
      });
      return result;
    }) as never;
  };
}
