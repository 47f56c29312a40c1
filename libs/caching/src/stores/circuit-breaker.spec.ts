import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  afterEach(() => vi.useRealTimers());

  it('opens after N consecutive failures, lets one probe through after the cooldown, closes on success', () => {
    vi.useFakeTimers({ now: 0 });
    const changes: string[] = [];
    const c = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000 }, (s) => changes.push(s));
    c.failure();
    c.failure();
    c.success(); // not consecutive
    c.failure();
    c.failure();
    expect(c.allow()).toBe(true);
    c.failure();
    expect(c.state).toBe('open');
    expect(c.allow()).toBe(false);
    vi.setSystemTime(1000);
    expect(c.allow()).toBe(true); // the probe
    expect(c.allow()).toBe(false); // only one
    c.success();
    expect(c.state).toBe('closed');
    expect(changes).toEqual(['open', 'closed']);
  });

  it('a failed probe re-opens for another cooldown', () => {
    vi.useFakeTimers({ now: 0 });
    const c = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100 });
    c.failure();
    vi.setSystemTime(100);
    expect(c.allow()).toBe(true);
    c.failure();
    expect(c.allow()).toBe(false);
    expect(c.retryAt).toBe(200);
  });
});
