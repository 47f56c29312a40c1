import { describe, expect, it } from 'vitest';
import { wakeableSleep } from './wakeable-sleep.js';

describe('wakeableSleep', () => {
  it('resolves when woken, long before its time, and leaves the set empty', async () => {
    const sleepers = new Set<() => void>();
    const started = Date.now();
    const sleeping = wakeableSleep(60_000, sleepers);
    expect(sleepers.size).toBe(1);
    for (const wake of sleepers) wake();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sleepers.size).toBe(0);
  });

  it('resolves on its own after the time and removes itself', async () => {
    const sleepers = new Set<() => void>();
    await wakeableSleep(5, sleepers);
    expect(sleepers.size).toBe(0);
  });
});
