import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  BulkheadFullError,
  CircuitOpenError,
  HttpClientConfigError,
  OperationTimeoutError,
} from '../errors.js';
import { createPolicy, Resilience } from './resilience.policy.js';
import { parseRetryAfter } from './retry-after.js';

const fast = { initialDelayMs: 1, maxDelayMs: 2 };

function failing(times: number, error: () => Error = () => new Error('boom')) {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls <= times) throw error();
    return 'ok';
  };
  return { fn, calls: () => calls };
}

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:02 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('ResiliencePolicy', () => {
  it('retries until success within maxAttempts', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 2, ...fast } });
    const f = failing(2);
    await expect(policy.execute(f.fn)).resolves.toBe('ok');
    expect(f.calls()).toBe(3);
  });

  it('gives up after maxAttempts retries with the last error', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 1, ...fast } });
    const f = failing(5);
    await expect(policy.execute(f.fn)).rejects.toThrow('boom');
    expect(f.calls()).toBe(2);
  });

  it('does not retry when the call says so, nor errors marked retryable: false', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 3, ...fast } });
    const once = failing(5);
    await expect(policy.execute(once.fn, { retry: false })).rejects.toThrow('boom');
    expect(once.calls()).toBe(1);
    const marked = failing(5, () => Object.assign(new Error('bad request'), { retryable: false }));
    await expect(policy.execute(marked.fn)).rejects.toThrow('bad request');
    expect(marked.calls()).toBe(1);
  });

  it('waits what retryAfterMs asks, capped by maxRetryAfterMs', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 1, ...fast, maxRetryAfterMs: 150 } });
    const f = failing(1, () => Object.assign(new Error('busy'), { retryAfterMs: 60_000 }));
    const started = performance.now();
    await expect(policy.execute(f.fn)).resolves.toBe('ok');
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1000);
  });

  it('opens the breaker after consecutive failures and then fails fast', async () => {
    const policy = createPolicy({
      retry: false,
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
    });
    const f = failing(10);
    await expect(policy.execute(f.fn)).rejects.toThrow('boom');
    await expect(policy.execute(f.fn)).rejects.toThrow('boom');
    expect(policy.circuitState).toBe('open');
    await expect(policy.execute(f.fn)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(f.calls()).toBe(2);
  });

  it('does not count errors marked countsAsFailure: false', async () => {
    const policy = createPolicy({ retry: false, circuitBreaker: { consecutiveFailures: 1 } });
    const f = failing(3, () => Object.assign(new Error('404'), { countsAsFailure: false }));
    await expect(policy.execute(f.fn)).rejects.toThrow('404');
    expect(policy.circuitState).toBe('closed');
  });

  it('times out an attempt and aborts its signal', async () => {
    const policy = createPolicy({ retry: false, attemptTimeoutMs: 30 });
    let aborted = false;
    const error = await policy
      .execute(
        ({ signal }) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted'));
            }),
          ),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationTimeoutError);
    expect(error).toMatchObject({ kind: 'attempt', timeoutMs: 30 });
    expect(aborted).toBe(true);
  });

  it('fails an attempt that ignores its signal as soon as its time is up', async () => {
    const policy = createPolicy({ retry: false, attemptTimeoutMs: 30 });
    const error = await policy.execute(() => new Promise(() => undefined)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OperationTimeoutError', kind: 'attempt', timeoutMs: 30 });
  });

  it('gives each retry a fresh signal after an attempt timed out', async () => {
    const policy = createPolicy({ attemptTimeoutMs: 30, retry: { maxAttempts: 1, ...fast } });
    const signals: AbortSignal[] = [];
    const result = await policy.execute(({ signal, attempt }) => {
      signals.push(signal);
      return attempt === 0 ? new Promise<string>(() => undefined) : 'ok';
    });
    expect(result).toBe('ok');
    expect(signals).toHaveLength(2);
    expect(signals[0]!.reason).toMatchObject({ name: 'AbortError' });
    expect(signals[1]).not.toBe(signals[0]);
  });

  it("aborts an attempt's signal once the attempt settled, so work left behind stops", async () => {
    const policy = createPolicy({ retry: false });
    let seen: AbortSignal | undefined;
    await policy.execute(({ signal }) => {
      seen = signal;
      return 'ok';
    });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toMatchObject({ name: 'AbortError' });
  });

  it("aborts the attempt's signal with the caller's reason", async () => {
    const policy = createPolicy({});
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    let seen: AbortSignal | undefined;
    const call = policy.execute(
      ({ signal }) => {
        seen = signal;
        return new Promise(() => undefined);
      },
      { signal: controller.signal },
    );
    await Promise.resolve();
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(seen?.reason).toBe(reason);
  });

  it('bounds the whole call with timeoutMs, backoffs included', async () => {
    const policy = createPolicy({
      timeoutMs: 80,
      attemptTimeoutMs: false,
      retry: { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 1000 },
    });
    const error = await policy.execute(failing(10).fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationTimeoutError);
    expect(error).toMatchObject({ kind: 'total', timeoutMs: 80 });
  });

  it('rejects beyond the bulkhead capacity', async () => {
    const policy = createPolicy({ retry: false, bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const running = policy.execute(() => gate.then(() => 1));
    const queued = policy.execute(() => Promise.resolve(2));
    await expect(policy.execute(() => Promise.resolve(3))).rejects.toBeInstanceOf(
      BulkheadFullError,
    );
    release();
    await expect(Promise.all([running, queued])).resolves.toEqual([1, 2]);
  });

  it('answers with the fallback when the call fails for good', async () => {
    const policy = createPolicy({ retry: false });
    const value = await policy.execute(failing(1).fn, {
      fallback: (e) => `fallback after ${(e as Error).message}`,
    });
    expect(value).toBe('fallback after boom');
  });

  it('stops when the caller aborts', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 5, initialDelayMs: 1000 } });
    const controller = new AbortController();
    const call = policy.execute(failing(10).fn, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
  });

  it.each([
    { stages: 'with timeouts', options: {} },
    { stages: 'without timeouts', options: { timeoutMs: false, attemptTimeoutMs: false } as const },
  ])(
    "adds no listener to a caller's signal shared by running calls ($stages), and still stops them",
    async ({ options }) => {
      const policy = createPolicy({ ...options, retry: false, bulkhead: false });
      const shutdown = new AbortController();
      const calls = Array.from({ length: 20 }, () =>
        policy.execute(() => new Promise(() => undefined), { signal: shutdown.signal }),
      );
      await Promise.resolve();
      expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
      shutdown.abort(new Error('shutting down'));
      const errors = await Promise.all(calls.map((c) => c.catch((e: unknown) => e)));
      expect(errors.map((e) => (e as Error).message)).toEqual(Array(20).fill('shutting down'));
    },
  );

  it('tells an attempt whether its signal can abort', async () => {
    const seen: boolean[] = [];
    const record = ({ abortable }: { abortable: boolean }) => seen.push(abortable);
    await createPolicy({ timeoutMs: false, attemptTimeoutMs: false }).execute(record);
    await createPolicy({ timeoutMs: 1000, attemptTimeoutMs: false }).execute(record);
    await createPolicy({ timeoutMs: false, attemptTimeoutMs: 1000 }).execute(record);
    await createPolicy({ timeoutMs: false, attemptTimeoutMs: false }).execute(record, {
      signal: new AbortController().signal,
    });
    expect(seen).toEqual([false, true, true, true]);
  });
});

describe('Resilience.wrap', () => {
  it('wraps a function with a policy made from options', async () => {
    const f = failing(1);
    const wrapped = Resilience.wrap(async (a: number, b: number) => (await f.fn()) + (a + b), {
      retry: fast,
    });
    await expect(wrapped(1, 2)).resolves.toBe('ok3');
    expect(f.calls()).toBe(2);
  });

  it('rejects bad options naming the key', () => {
    expect(() => createPolicy({ retry: { maxAttempts: -1 } })).toThrow(HttpClientConfigError);
    expect(() => createPolicy({ retry: { maxAttempts: -1 } })).toThrow(
      'createPolicy: options.retry',
    );
  });
});
