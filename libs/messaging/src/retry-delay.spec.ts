import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './messaging.options.js';

const policy = { attempts: 5, initialDelayMs: 100, maxDelayMs: 2_000 };
const busy = (retryAfterMs: unknown) => Object.assign(new Error('429'), { retryAfterMs });

describe('retryDelayMs', () => {
  it('is the jittered exponential backoff without a hint', () => {
    const delay = retryDelayMs(policy, 3, new Error('down'));
    expect(delay).toBeGreaterThanOrEqual(200);
    expect(delay).toBeLessThanOrEqual(400);
  });

  it('waits as long as the error asks (retryAfterMs, e.g. Retry-After), capped at maxDelayMs', () => {
    expect(retryDelayMs(policy, 1, busy(1_500))).toBe(1_500);
    expect(retryDelayMs(policy, 1, busy(60_000))).toBe(2_000);
  });

  it('ignores hints shorter than the backoff and values that are not finite numbers', () => {
    for (const hint of [1, Number.NaN, Number.POSITIVE_INFINITY, '5000', null]) {
      const delay = retryDelayMs(policy, 2, busy(hint));
      expect(delay).toBeLessThanOrEqual(200);
    }
  });
});
