import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  IsolatedCircuitError,
  SamplingBreaker,
  TaskCancelledError,
  bulkhead,
  circuitBreaker,
  decorrelatedJitterGenerator,
  handleWhen,
  noop,
  retry,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { traitOf, validateModuleOptions } from '@infrastructure/core';
import {
  BulkheadFullError,
  CircuitOpenError,
  HttpClientConfigError,
  OperationTimeoutError,
} from '../errors.js';
import {
  resilienceSchema,
  resolveResilienceOptions,
  type ResilienceOptions,
  type ResolvedResilienceOptions,
} from './resilience.options.js';
import { RetryAfterBackoff } from './retry-after.js';

/** Circuit states as reported in health and metrics (`circuit_breaker_state`: 0, 1, 2). */
export type CircuitStateName = 'closed' | 'half-open' | 'open';

/** `circuit_breaker_state` value of a state: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_VALUE: Record<CircuitStateName, number> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

function stateName(state: CircuitState): CircuitStateName {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half-open';
  return 'open'; // Open and Isolated
}

/** What one attempt gets. */
export interface AttemptContext {
  /** Aborts when the attempt or the whole call times out, or the caller aborts: pass it on. */
  signal: AbortSignal;
  /** 0 for the first call, 1 for the first retry... */
  attempt: number;
  /**
   * Whether anything can abort `signal` (a timeout, the caller's signal). When false, `signal` is
   * one never-aborting signal shared by every such call: do not hand it to code that adds a
   * listener per call (undici, fetch), or listeners pile up on it.
   */
  abortable: boolean;
}

/** Options of one {@link ResiliencePolicy.execute}. */
export interface ExecuteOptions<T> {
  /** The caller's signal: aborting it stops the call (no more retries). */
  signal?: AbortSignal;
  /** Retry this call (false for non-idempotent work). @default true */
  retry?: boolean;
  /** Overrides the policy's `timeoutMs` for this call. */
  timeoutMs?: number | false;
  /** Called with the final (translated) error; its value becomes the result. Rethrow to fail. */
  fallback?: (error: unknown) => T | Promise<T>;
  /** Builds the timeout error (the HTTP client adds method and URL). */
  timeoutError?: (kind: 'attempt' | 'total', timeoutMs: number) => Error;
  /**
   * Abort an attempt's signal once the attempt settles, so work it left running stops. `false`
   * when `fn` leaves nothing behind (an HTTP call whose body was read): saves an abort per call.
   * @default true
   */
  abortOnReturn?: boolean;
  /**
   * `fn` bounds each attempt to `attemptTimeoutMs` itself and then throws
   * `timeoutError('attempt', attemptTimeoutMs)` (the HTTP client: undici's `headersTimeout` and
   * `bodyTimeout`). The policy then adds no signal, controller or timer per attempt; the
   * attempt's signal is the call's (total timeout, caller). @default false
   */
  boundsAttempts?: boolean;
}

/** Events of a policy (logs, metrics). */
export interface PolicyEvents {
  onRetry?(event: { attempt: number; delayMs: number; error?: unknown }): void;
  onCircuitStateChange?(state: CircuitStateName): void;
}

/**
 * Reason of an attempt signal aborted because its attempt settled: one instance, because a fresh
 * `DOMException` per call (what `abort()` makes) captures a stack and was the largest single cost
 * of a fast call (bench/http-client).
 */
const ATTEMPT_SETTLED = new DOMException('This operation was aborted', 'AbortError');

/**
 * One attempt bounded by `ms`, as cockatiel's aggressive `timeout()` with `abortOnReturn` does it:
 * `fn` gets a signal that aborts when the time is up (`AbortError`) or when `parent` aborts (with
 * its reason); the attempt then rejects at once with `TaskCancelledError`, even if `fn` ignores
 * the signal; once the attempt settles its signal is aborted, so work left behind stops. Without
 * cockatiel's per-call event plumbing (two listeners, an event promise, an executor, a fresh
 * `DOMException`).
 */
async function withAttemptTimeout<T>(
  parent: AbortSignal | undefined,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
  abortOnReturn: boolean,
): Promise<T> {
  const ctrl = new AbortController();
  let cancel!: () => void;
  const cancelled = new Promise<never>((_, reject) => {
    cancel = () => reject(new TaskCancelledError(`Operation timed out after ${ms}ms`));
  });
  const onParentAbort = () => {
    ctrl.abort(parent!.reason);
    cancel();
  };
  const timer = setTimeout(() => {
    ctrl.abort();
    cancel();
  }, ms);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  try {
    // Not withTimeout: the race also ends on the caller's abort, and both end with cockatiel's
    // TaskCancelledError, which the policy's translation expects.
    return await Promise.race([fn(ctrl.signal), cancelled]);
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
    clearTimeout(timer);
    if (abortOnReturn && !ctrl.signal.aborted) ctrl.abort(ATTEMPT_SETTLED);
  }
}

/** Whether an error may be retried: anything but errors saying `retryable: false` and aborts. */
export function isRetryableError(error: unknown): boolean {
  if ((error as { name?: unknown } | null)?.name === 'AbortError') return false;
  return traitOf(error, 'retryable') !== false;
}

/** Whether the breaker counts an error: anything but errors saying `countsAsFailure: false` and aborts. */
export function countsAsFailure(error: unknown): boolean {
  if ((error as { name?: unknown } | null)?.name === 'AbortError') return false;
  return traitOf(error, 'countsAsFailure') !== false;
}

/**
 * One resilience pipeline, cockatiel underneath, in this order (outermost first):
 * bulkhead → circuit breaker → retry → per-attempt timeout, the whole bounded by `timeoutMs`.
 * The bulkhead is outermost so queued calls hold no breaker probe and retries keep their slot;
 * the breaker sees one outcome per call (after retries), so a flaky answer that a retry fixes
 * does not count; the timeout is per attempt so a retry gets a fresh budget.
 * Share one instance per dependency: its breaker and bulkhead are its state.
 */
export class ResiliencePolicy {
  readonly name: string;
  private readonly withRetry: IPolicy;
  private readonly withoutRetry: IPolicy;
  private readonly breaker?: CircuitBreakerPolicy;
  private readonly listeners = new Set<PolicyEvents>();

  constructor(readonly options: ResolvedResilienceOptions) {
    this.name = options.name;
    const { retry: r, circuitBreaker: cb, bulkhead: bh } = options;
    const bulkheadPolicy = bh ? bulkhead(bh.maxConcurrent, bh.maxQueue) : noop;
    if (cb) {
      this.breaker = circuitBreaker(handleWhen(countsAsFailure), {
        halfOpenAfter: cb.halfOpenAfterMs,
        breaker:
          cb.kind === 'consecutive'
            ? new ConsecutiveBreaker(cb.consecutiveFailures)
            : new SamplingBreaker({
                threshold: cb.threshold,
                duration: cb.samplingDurationMs,
                minimumRps: cb.minimumRps,
              }),
      });
      this.breaker.onStateChange((s) => this.emit('onCircuitStateChange', stateName(s)));
    }
    const breakerPolicy = this.breaker ?? noop;
    // The per-attempt timeout is innermost too, but run by `execute` (withAttemptTimeout).
    if (r && r.maxAttempts > 0) {
      const retryPolicy = retry(handleWhen(isRetryableError), {
        maxAttempts: r.maxAttempts,
        backoff: new RetryAfterBackoff(
          new ExponentialBackoff({
            generator: decorrelatedJitterGenerator,
            initialDelay: r.initialDelayMs,
            maxDelay: r.maxDelayMs,
          }),
          r.maxRetryAfterMs,
        ),
      });
      retryPolicy.onRetry((e) =>
        this.emit('onRetry', {
          attempt: e.attempt,
          delayMs: e.delay,
          error: 'error' in e ? e.error : undefined,
        }),
      );
      this.withRetry = wrap(bulkheadPolicy, breakerPolicy, retryPolicy);
    } else {
      this.withRetry = wrap(bulkheadPolicy, breakerPolicy);
    }
    this.withoutRetry = wrap(bulkheadPolicy, breakerPolicy);
  }

  /** The breaker's state (`closed` when the breaker is off). */
  get circuitState(): CircuitStateName {
    return this.breaker ? stateName(this.breaker.state) : 'closed';
  }

  /** Subscribes to retries and breaker changes; returns the unsubscribe function. */
  subscribe(events: PolicyEvents): () => void {
    this.listeners.add(events);
    return () => this.listeners.delete(events);
  }

  /**
   * Runs `fn` through the pipeline. Failures leave as our errors: `CircuitOpenError`,
   * `BulkheadFullError`, `OperationTimeoutError` (or `timeoutError`'s), else `fn`'s last error.
   */
  async execute<T>(
    fn: (ctx: AttemptContext) => Promise<T> | T,
    opts: ExecuteOptions<T> = {},
  ): Promise<T> {
    const total = opts.timeoutMs ?? this.options.timeoutMs;
    // Signals only where something can abort: a total timeout, the caller's signal. One signal
    // per call, never the caller's own: a caller may share one signal among many calls (a
    // shutdown signal), and a listener per call on it would pile up (`AbortSignal.any` adds none).
    const deadline = total ? new AbortController() : undefined;
    const signal = opts.signal
      ? AbortSignal.any(deadline ? [deadline.signal, opts.signal] : [opts.signal])
      : deadline?.signal;
    const makeTimeout =
      opts.timeoutError ??
      ((kind: 'attempt' | 'total', ms: number) => new OperationTimeoutError(this.name, kind, ms));
    const abortOnReturn = opts.abortOnReturn !== false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let attempt = 0;
    const pipeline = opts.retry === false ? this.withoutRetry : this.withRetry;
    try {
      // Bounded here (a signal and a timer per attempt) unless `fn` bounds its attempts itself.
      const attemptTimeoutMs = opts.boundsAttempts ? false : this.options.attemptTimeoutMs;
      const abortable = signal !== undefined || attemptTimeoutMs !== false;
      const once = async (s: AbortSignal): Promise<T> => {
        try {
          return await fn({ signal: s, attempt: attempt++, abortable });
        } catch (error) {
          // The attempt's own signal fired but not the call's: the per-attempt timeout did it.
          if (s.aborted && !signal?.aborted && attemptTimeoutMs) {
            throw makeTimeout('attempt', attemptTimeoutMs);
          }
          throw error;
        }
      };
      const run = pipeline.execute(
        ({ signal: s }) =>
          attemptTimeoutMs
            ? withAttemptTimeout(signal && s, attemptTimeoutMs, once, abortOnReturn)
            : once(s),
        signal,
      );
      if (!total && !opts.signal) return await run; // nothing to race against
      // Backoff delays and bulkhead queues do not watch the signal: the race bounds them. One
      // promise for both ends (total timeout, caller's abort).
      const stopped = new Promise<never>((_, reject) => {
        if (total) {
          timer = setTimeout(() => {
            const error = makeTimeout('total', total);
            deadline!.abort(error);
            reject(error);
          }, total);
        }
        if (opts.signal) {
          const callSignal = signal!; // this call's own: its listener goes with it
          onAbort = () => reject(callSignal.reason);
          if (callSignal.aborted) onAbort();
          else callSignal.addEventListener('abort', onAbort, { once: true });
        }
      });
      run.catch(() => undefined); // a loser of the race must not reject unhandled
      // Not withTimeout: the total deadline aborts the run's signal with its own error, and the
      // caller's signal races too.
      return await Promise.race([run, stopped]);
    } catch (error) {
      const translated = this.translate(error, deadline?.signal, opts.signal, total, makeTimeout);
      if (opts.fallback) return opts.fallback(translated);
      throw translated;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private translate(
    error: unknown,
    deadline: AbortSignal | undefined,
    caller: AbortSignal | undefined,
    total: number | false,
    makeTimeout: (kind: 'attempt' | 'total', ms: number) => Error,
  ): unknown {
    if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
      return new CircuitOpenError(this.name, { cause: error });
    }
    if (error instanceof BulkheadRejectedError) {
      const bh = this.options.bulkhead as { maxConcurrent: number; maxQueue: number };
      return new BulkheadFullError(this.name, bh.maxConcurrent, bh.maxQueue, { cause: error });
    }
    if (deadline?.aborted && total) return deadline.reason as unknown;
    if (caller?.aborted) return caller.reason as unknown;
    if (error instanceof TaskCancelledError && this.options.attemptTimeoutMs) {
      return makeTimeout('attempt', this.options.attemptTimeoutMs);
    }
    return error;
  }

  private emit<K extends keyof PolicyEvents>(
    event: K,
    arg: Parameters<NonNullable<PolicyEvents[K]>>[0],
  ): void {
    for (const l of this.listeners) {
      try {
        (l[event] as ((a: typeof arg) => void) | undefined)?.(arg);
      } catch {
        // a listener (log, metric) must never break a call
      }
    }
  }
}

/**
 * A validated pipeline from options (a bad option throws `HttpClientConfigError` naming it).
 * @example const s3 = createPolicy({ name: 's3', attemptTimeoutMs: 2000, retry: { maxAttempts: 3 } });
 */
export function createPolicy(options: ResilienceOptions = {}): ResiliencePolicy {
  validateModuleOptions('createPolicy', resilienceSchema, options, HttpClientConfigError);
  return new ResiliencePolicy(resolveResilienceOptions(options));
}

/** The pipeline for non-HTTP calls (SDKs, SMTP, databases of others). */
export const Resilience = {
  /**
   * `fn` run through `policy` (or a policy made from options) on every call. `fn` that wants the
   * attempt's abort signal should use `policy.execute(({ signal }) => ...)` instead.
   * @example const send = Resilience.wrap((msg: Mail) => smtp.send(msg), mailPolicy);
   */
  wrap<A extends unknown[], T>(
    fn: (...args: A) => Promise<T>,
    policy: ResiliencePolicy | ResilienceOptions,
    options: Omit<ExecuteOptions<T>, 'signal'> = {},
  ): (...args: A) => Promise<T> {
    const p = policy instanceof ResiliencePolicy ? policy : createPolicy(policy);
    return (...args: A) => p.execute(() => fn(...args), options);
  },
  createPolicy,
};
