import { getLogger } from '@infrastructure/monitoring';
import { Inject, Optional } from '@nestjs/common';
import { CachingRuntime } from '../caching.runtime.js';
import { CacheNotConfiguredError } from '../errors.js';

/** Where Nest puts the runtime on instances of classes that use the caching decorators. */
const RUNTIME = Symbol('caching:runtime');
const prepared = new WeakSet<object>();

/**
 * Asks Nest to inject the caching runtime into every instance of the decorated class (property
 * injection). Each app gets its own cache this way, also when two apps share one process.
 */
export function injectRuntime(prototype: object): void {
  if (prepared.has(prototype)) return;
  prepared.add(prototype);
  Inject(CachingRuntime)(prototype, RUNTIME);
  Optional()(prototype, RUNTIME);
}

export function runtimeOf(
  instance: object,
  decorator: string,
  method: string | symbol,
): CachingRuntime {
  const runtime = (instance as Record<symbol, CachingRuntime | undefined>)[RUNTIME];
  if (!runtime) {
    throw new CacheNotConfiguredError(
      `@${decorator} on ${instance.constructor.name}.${String(method)}: no cache was injected. ` +
        'Import CachingModule.forRoot() and let Nest create the instance (register the class as a provider).',
    );
  }
  return runtime;
}

/** Runs `fn` after the surrounding unit of work commits (now when there is none). */
export async function afterCommit(
  runtime: CachingRuntime,
  fn: () => Promise<unknown>,
): Promise<void> {
  const run = () =>
    fn().catch((error: Error) =>
      getLogger('Caching').error(
        { err: error.message },
        'cache: cache update after the write failed',
      ),
    );
  if (runtime.afterCommit) await runtime.afterCommit.afterCommit(run);
  else await run();
}
