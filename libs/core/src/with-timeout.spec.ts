import { describe, expect, it } from 'vitest';
import { TimeoutError, withTimeout } from './with-timeout.js';

describe('withTimeout', () => {
  it('passes the value through when the work finishes first', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'slow')).resolves.toBe(7);
  });

  it('passes the work’s own error through', async () => {
    await expect(withTimeout(Promise.reject(new RangeError('no')), 1000, 'slow')).rejects.toThrow(
      RangeError,
    );
  });

  it('rejects with TimeoutError and the (lazily built) message when the deadline comes first', async () => {
    const never = new Promise<never>(() => undefined);
    const error = await withTimeout(never, 5, () => 'redis did not answer').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('redis did not answer');
  });
});
