import { z } from 'zod';

/** Retry with exponential backoff and jitter. Durations are milliseconds. */
export interface RetryOptions {
  /** Retries after the first call (2 → at most 3 calls). @default 2 */
  maxAttempts?: number;
  /** First backoff delay. @default 100 */
  initialDelayMs?: number;
  /** Longest backoff delay. @default 2000 */
  maxDelayMs?: number;
  /** Longest wait a `Retry-After` answer can impose; longer asks wait this long. @default 5000 */
  maxRetryAfterMs?: number;
}

/** Circuit breaker: fail fast after failures, probe again after `halfOpenAfterMs`. */
export interface CircuitBreakerOptions {
  /**
   * Opens after this many consecutive failed calls (a call = all its retries). Ignored when
   * `threshold` is set. @default 5
   */
  consecutiveFailures?: number;
  /** Sampling breaker instead: opens when this share (0-1) of calls in `samplingDurationMs` fail. @default unset */
  threshold?: number;
  /** Sampling window of the sampling breaker. @default 10000 */
  samplingDurationMs?: number;
  /** Sampling breaker: fewest calls per second before it may open. @default 5 */
  minimumRps?: number;
  /** Open time before one probe call is let through (half-open); success closes it. @default 10000 */
  halfOpenAfterMs?: number;
}

/** Bulkhead: bounded concurrency with a bounded queue; beyond both, calls are rejected at once. */
export interface BulkheadOptions {
  /** Calls running at once. @default 50 */
  maxConcurrent?: number;
  /** Calls waiting for a slot. @default 100 */
  maxQueue?: number;
}

/** A resilience pipeline: bulkhead → circuit breaker → retry → per-attempt timeout. `false` turns a stage off. */
export interface ResilienceOptions {
  /** Name in errors, logs and metrics. @default 'default' */
  name?: string;
  /** Bound of a whole call: queueing, attempts and backoffs. @default 10000 */
  timeoutMs?: number | false;
  /** Bound of one attempt; the attempt's signal aborts then. @default 3000 */
  attemptTimeoutMs?: number | false;
  /** @default { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 2000, maxRetryAfterMs: 5000 } */
  retry?: RetryOptions | false;
  /** @default { consecutiveFailures: 5, halfOpenAfterMs: 10000 } */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** @default { maxConcurrent: 50, maxQueue: 100 } */
  bulkhead?: BulkheadOptions | false;
}

/** {@link ResilienceOptions} with every default applied. */
export interface ResolvedResilienceOptions {
  name: string;
  timeoutMs: number | false;
  attemptTimeoutMs: number | false;
  retry: Required<RetryOptions> | false;
  circuitBreaker:
    | false
    | ({ halfOpenAfterMs: number } & (
        | { kind: 'consecutive'; consecutiveFailures: number }
        | { kind: 'sampling'; threshold: number; samplingDurationMs: number; minimumRps: number }
      ));
  bulkhead: Required<BulkheadOptions> | false;
}

const ms = z.number().int().min(1).max(2_147_483_647);

/** zod schema of {@link ResilienceOptions} (without `name`). */
export const resilienceSchemaShape = {
  timeoutMs: z.union([ms, z.literal(false)]).optional(),
  attemptTimeoutMs: z.union([ms, z.literal(false)]).optional(),
  retry: z
    .union([
      z.literal(false),
      z
        .object({
          maxAttempts: z.number().int().min(0).max(20).optional(),
          initialDelayMs: ms.optional(),
          maxDelayMs: ms.optional(),
          maxRetryAfterMs: z.number().int().min(0).max(2_147_483_647).optional(),
        })
        .strict(),
    ])
    .optional(),
  circuitBreaker: z
    .union([
      z.literal(false),
      z
        .object({
          consecutiveFailures: z.number().int().min(1).max(10_000).optional(),
          threshold: z.number().gt(0).max(1).optional(),
          samplingDurationMs: ms.optional(),
          minimumRps: z.number().min(0).optional(),
          halfOpenAfterMs: ms.optional(),
        })
        .strict(),
    ])
    .optional(),
  bulkhead: z
    .union([
      z.literal(false),
      z
        .object({
          maxConcurrent: z.number().int().min(1).max(100_000).optional(),
          maxQueue: z.number().int().min(0).max(1_000_000).optional(),
        })
        .strict(),
    ])
    .optional(),
};

export const resilienceSchema = z
  .object({ name: z.string().min(1).max(64).optional(), ...resilienceSchemaShape })
  .strict();

/** One stage over its default: `false` off, else the given fields over the default's. */
function stage<T extends object>(value: T | false | undefined, base: T | false | undefined) {
  return value === false
    ? false
    : base === false || base === undefined
      ? value
      : { ...base, ...value };
}

/**
 * `options` over an adapter's own `defaults`, stage by stage: `{ bulkhead: { maxConcurrent: 10 } }`
 * keeps the default `maxQueue`; `false` turns a stage off.
 */
export function withResilienceDefaults(
  options: ResilienceOptions | undefined,
  defaults: ResilienceOptions,
): ResilienceOptions {
  const given = Object.fromEntries(
    Object.entries(options ?? {}).filter(([, v]) => v !== undefined),
  ) as ResilienceOptions;
  return {
    ...defaults,
    ...given,
    retry: stage(options?.retry, defaults.retry),
    circuitBreaker: stage(options?.circuitBreaker, defaults.circuitBreaker),
    bulkhead: stage(options?.bulkhead, defaults.bulkhead),
  };
}

/** Applies defaults (does not validate: see `createPolicy`). */
export function resolveResilienceOptions(o: ResilienceOptions = {}): ResolvedResilienceOptions {
  const cb = o.circuitBreaker;
  return {
    name: o.name ?? 'default',
    timeoutMs: o.timeoutMs ?? 10_000,
    attemptTimeoutMs: o.attemptTimeoutMs ?? 3000,
    retry:
      o.retry === false
        ? false
        : {
            maxAttempts: o.retry?.maxAttempts ?? 2,
            initialDelayMs: o.retry?.initialDelayMs ?? 100,
            maxDelayMs: o.retry?.maxDelayMs ?? 2000,
            maxRetryAfterMs: o.retry?.maxRetryAfterMs ?? 5000,
          },
    circuitBreaker:
      cb === false
        ? false
        : cb?.threshold !== undefined
          ? {
              kind: 'sampling',
              threshold: cb.threshold,
              samplingDurationMs: cb.samplingDurationMs ?? 10_000,
              minimumRps: cb.minimumRps ?? 5,
              halfOpenAfterMs: cb.halfOpenAfterMs ?? 10_000,
            }
          : {
              kind: 'consecutive',
              consecutiveFailures: cb?.consecutiveFailures ?? 5,
              halfOpenAfterMs: cb?.halfOpenAfterMs ?? 10_000,
            },
    bulkhead:
      o.bulkhead === false
        ? false
        : {
            maxConcurrent: o.bulkhead?.maxConcurrent ?? 50,
            maxQueue: o.bulkhead?.maxQueue ?? 100,
          },
  };
}
