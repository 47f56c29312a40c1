import { describe, expect, it } from 'vitest';
import { withResilienceDefaults } from './resilience.options.js';

const defaults = {
  timeoutMs: 60_000,
  retry: { maxAttempts: 3, initialDelayMs: 100 },
  bulkhead: { maxConcurrent: 50, maxQueue: 200 },
};

describe('withResilienceDefaults', () => {
  it('merges each stage field by field and keeps defaults for what is not given', () => {
    expect(
      withResilienceDefaults({ bulkhead: { maxConcurrent: 10 }, timeoutMs: undefined }, defaults),
    ).toEqual({
      timeoutMs: 60_000,
      retry: { maxAttempts: 3, initialDelayMs: 100 },
      circuitBreaker: undefined,
      bulkhead: { maxConcurrent: 10, maxQueue: 200 },
    });
  });

  it('turns a stage off with false, and takes a stage the defaults do not have as given', () => {
    const merged = withResilienceDefaults(
      { retry: false, circuitBreaker: { consecutiveFailures: 2 } },
      defaults,
    );
    expect(merged.retry).toBe(false);
    expect(merged.circuitBreaker).toEqual({ consecutiveFailures: 2 });
  });
});
