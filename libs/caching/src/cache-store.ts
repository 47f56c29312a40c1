/** Options of a write. */
export interface CacheSetOptions {
  /** How long the value is fresh, in milliseconds. @default the module's `ttlMs` (60000) */
  ttlMs?: number;
  /** Tags to invalidate the entry by (`invalidateTags(['order:42'])`). @default [] */
  tags?: readonly string[];
  /** After `ttlMs`, how long `getOrSet` still serves the value while it refreshes it in the background (ms). @default the module's (0) */
  staleWhileRevalidateMs?: number;
  /** After `ttlMs`, how long `getOrSet` serves the old value when the loader fails (ms). @default the module's (0) */
  graceMs?: number;
}

/** Options of {@link CacheStore.getOrSet}. */
export interface GetOrSetOptions extends CacheSetOptions {
  /**
   * Concurrent misses for one key run the loader once per process (`'local'`), or once across every
   * instance sharing the Redis (`'distributed'`: a short Redis lock; the others wait for the value).
   * @default the module's `singleFlight` ('local')
   */
  singleFlight?: 'local' | 'distributed';
}

/** Options of {@link CacheStore.wrap}. */
export interface WrapOptions<A extends unknown[]> extends Omit<GetOrSetOptions, 'tags'> {
  /** The cache key of a call. */
  key: (...args: A) => string;
  /** Tags of a call's entry. */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
}

/**
 * The cache port. Inject `CacheStore`; `CachingModule` backs it with memory or Redis (with an
 * in-process L1 in front). All durations are **milliseconds** (`ttlMs`). Failures of the shared
 * tier (Redis down or slow) never surface: reads become misses, writes are skipped. Errors that are
 * yours do surface: a value that cannot be serialised throws `CacheSerializationError` naming the key.
 *
 * Cached values are copies on the way in, but an L1 hit returns the same object to every caller:
 * treat cached objects as read-only.
 */
export abstract class CacheStore {
  /** The fresh value, or undefined (absent, expired, invalidated by a tag, or the store unreachable). */
  abstract get<T = unknown>(key: string): Promise<T | undefined>;

  /** Stores `value` (not `undefined`); replaces it in every instance's L1. */
  abstract set<T>(key: string, value: T, options?: CacheSetOptions): Promise<void>;

  /** Removes keys here and from every instance's L1. */
  abstract delete(key: string | readonly string[]): Promise<void>;

  /**
   * Cache-aside: the cached value, or `loader()`'s (stored for next time). Concurrent misses share
   * one loader call; stale-while-revalidate and grace apply (see {@link CacheSetOptions}). A loader
   * result of `undefined` is returned but not stored (`null` is stored).
   */
  abstract getOrSet<T>(
    key: string,
    loader: () => Promise<T> | T,
    options?: GetOrSetOptions,
  ): Promise<T>;

  /** Every entry carrying one of `tags` becomes a miss, in every instance (no key scan). */
  abstract invalidateTags(tags: readonly string[]): Promise<void>;

  /** `fn` memoised through {@link getOrSet}, keyed by `options.key(...args)`. */
  abstract wrap<A extends unknown[], R>(
    fn: (...args: A) => Promise<R> | R,
    options: WrapOptions<A>,
  ): (...args: A) => Promise<R>;
}
