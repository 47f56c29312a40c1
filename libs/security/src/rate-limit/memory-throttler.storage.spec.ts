import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';

describe('MemoryThrottlerStorage (fixed window per key, bounded)', () => {
  let storage: MemoryThrottlerStorage;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    storage = new MemoryThrottlerStorage({ maxKeys: 10, sweepIntervalMs: 1000 });
  });
  afterEach(() => {
    storage.onApplicationShutdown();
    vi.useRealTimers();
  });

  it('counts hits in the window, then blocks for blockDuration once over the limit', async () => {
    for (let i = 1; i <= 3; i++) {
      expect(await storage.increment('ip-1', 60_000, 3, 30_000, 'default')).toEqual({
        totalHits: i,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
    expect(await storage.increment('ip-1', 60_000, 3, 30_000, 'default')).toMatchObject({
      totalHits: 4,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    // Another key, or another throttler, has its own window.
    expect(await storage.increment('ip-2', 60_000, 3, 30_000, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
    expect(await storage.increment('ip-1', 60_000, 3, 30_000, 'login')).toMatchObject({
      totalHits: 1,
    });
  });

  it('stays blocked until the block ends, then starts a new window', async () => {
    for (let i = 0; i < 3; i++) await storage.increment('k', 10_000, 2, 20_000, 'default');
    vi.advanceTimersByTime(15_000); // window over, block not
    expect(await storage.increment('k', 10_000, 2, 20_000, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: true,
      timeToBlockExpire: 5,
    });
    // The block is over; the window the blocked hit opened (like the Redis key) counts on.
    vi.advanceTimersByTime(5_000);
    expect(await storage.increment('k', 10_000, 2, 20_000, 'default')).toEqual({
      totalHits: 2,
      timeToExpire: 5,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('without a block duration, refuses until the window ends', async () => {
    await storage.increment('k', 10_000, 1, 0, 'default');
    vi.advanceTimersByTime(4_000);
    expect(await storage.increment('k', 10_000, 1, 0, 'default')).toMatchObject({
      totalHits: 2,
      isBlocked: true,
      timeToBlockExpire: 6,
    });
    vi.advanceTimersByTime(6_000);
    expect(await storage.increment('k', 10_000, 1, 0, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('keeps memory bounded: expired windows are swept, and past maxKeys the oldest go', async () => {
    for (let i = 0; i < 5; i++) await storage.increment(`old-${i}`, 1_000, 5, 0, 'default');
    vi.advanceTimersByTime(1_000); // the sweep timer removes the ended windows
    expect(storage.size).toBe(0);
    for (let i = 0; i < 25; i++) await storage.increment(`ip-${i}`, 60_000, 5, 0, 'default');
    expect(storage.size).toBeLessThanOrEqual(10);
    // The newest key is still counted.
    expect(await storage.increment('ip-24', 60_000, 5, 0, 'default')).toMatchObject({
      totalHits: 2,
    });
  });

  it('costs the same per request whatever the hit count (no per-hit array)', async () => {
    for (let i = 0; i < 100_000; i++)
      await storage.increment('hot', 60_000, 1_000_000, 0, 'default');
    expect(storage.size).toBe(1);
    expect(await storage.increment('hot', 60_000, 1_000_000, 0, 'default')).toMatchObject({
      totalHits: 100_001,
    });
  });
});
