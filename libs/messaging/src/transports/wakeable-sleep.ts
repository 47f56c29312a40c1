/**
 * Resolves after `ms`, or as soon as the function it adds to `sleepers` is called (a stop, a
 * rebalance, a reconnect wakes every sleeper at once: `for (const wake of sleepers) wake()`).
 */
export function wakeableSleep(ms: number, sleepers: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      sleepers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    sleepers.add(wake);
  });
}
