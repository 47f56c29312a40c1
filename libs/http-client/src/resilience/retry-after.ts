import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from 'cockatiel';

/**
 * Milliseconds to wait from a `Retry-After` header value: delta-seconds (`120`) or an HTTP date.
 * `undefined` when absent or unparseable; a date in the past gives 0.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The `retryAfterMs` a failure carries (our `HttpClientError` does, from `Retry-After`). */
function retryAfterOf(context: IRetryBackoffContext<unknown>): number | undefined {
  if (!('error' in context.result)) return undefined;
  const ms = (context.result.error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && ms >= 0 ? ms : undefined;
}

/**
 * A backoff that waits what the server asked for (`Retry-After`, capped at `maxRetryAfterMs`)
 * when the failure says so, else what `inner` (exponential with jitter) says.
 */
export class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly inner: IBackoffFactory<IRetryBackoffContext<unknown>>,
    private readonly maxRetryAfterMs: number,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const innerNext = this.inner.next(context);
    const asked = retryAfterOf(context);
    const duration =
      asked === undefined ? innerNext.duration : Math.min(asked, this.maxRetryAfterMs);
    const rest = new RetryAfterBackoff(innerNext, this.maxRetryAfterMs);
    return { duration, next: (c) => rest.next(c) };
  }
}
