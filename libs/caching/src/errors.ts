// Moved to @infrastructure/core; re-exported for callers that catch it.
export { MissingDependencyError } from '@infrastructure/core';

/** Bad caching configuration; the message names the option or variable (e.g. `REDIS_URL`). */
export class CachingConfigError extends Error {
  override readonly name = 'CachingConfigError';
}

/** A value cannot be cached (a function, a symbol, a cycle...); the message names the key. */
export class CacheSerializationError extends Error {
  override readonly name = 'CacheSerializationError';
  constructor(
    readonly key: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot cache key "${key}": ${reason}`, options);
  }
}

/** A cache operation on the shared tier did not answer within `opTimeoutMs`. */
export class CacheTimeoutError extends Error {
  override readonly name = 'CacheTimeoutError';
  constructor(
    readonly op: string,
    readonly timeoutMs: number,
  ) {
    super(`cache ${op} timed out after ${timeoutMs} ms`);
  }
}

/** The shared tier failed repeatedly; calls skip it until the circuit's cooldown has passed. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor(readonly retryAtMs: number) {
    super(
      `cache circuit open (the shared tier failed repeatedly); next try at ${new Date(retryAtMs).toISOString()}`,
    );
  }
}

/** `LockService.withLock` could not take the lock within `waitMs`. */
export class LockNotAcquiredError extends Error {
  override readonly name = 'LockNotAcquiredError';
  readonly httpStatus = 409;
  constructor(
    readonly key: string,
    waitMs: number,
  ) {
    super(`lock "${key}" is held by someone else (waited ${waitMs} ms)`);
  }
}

/** The lock backend (Redis) cannot be reached: locks fail closed, unlike cache reads. */
export class LockUnavailableError extends Error {
  override readonly name = 'LockUnavailableError';
  readonly httpStatus = 503;
}

/** A caching decorator ran on an object Nest did not create (so no cache was injected into it). */
export class CacheNotConfiguredError extends Error {
  override readonly name = 'CacheNotConfiguredError';
}
