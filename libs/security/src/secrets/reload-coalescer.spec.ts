import { describe, expect, it } from 'vitest';
import { ReloadCoalescer } from './reload-coalescer.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ReloadCoalescer', () => {
  it('never overlaps runs: calls made while one runs share a single follow-up run', async () => {
    const gates = [deferred(), deferred()];
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const coalescer = new ReloadCoalescer(async () => {
      const run = runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await gates[run]!.promise;
      active--;
      return run;
    });

    const first = coalescer.run();
    const second = coalescer.run();
    const third = coalescer.run();
    expect(second).toBe(third);
    gates[0]!.resolve();
    expect(await first).toBe(0);
    gates[1]!.resolve();
    expect(await second).toBe(1);
    expect(await third).toBe(1);
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);

    // Idle again: the next call starts a run of its own at once.
    gates.push(deferred());
    const fourth = coalescer.run();
    gates[2]!.resolve();
    expect(await fourth).toBe(2);
  });
});
