import { describe, expect, it } from 'vitest';
import { CacheTimeoutError, CircuitOpenError } from '../errors.js';
import { FailOpenStore } from './fail-open.store.js';
import { MemoryKeyvStore } from './memory.store.js';

class HangingStore extends MemoryKeyvStore {
  override get<V>(): Promise<V> {
    return new Promise(() => {});
  }
}

describe('FailOpenStore', () => {
  it('bounds a store that never answers with a timeout, then opens the circuit', async () => {
    const failures: string[] = [];
    const store = new FailOpenStore(
      new HangingStore(10),
      20,
      { failureThreshold: 2, cooldownMs: 60_000 },
      {
        onFailure: (op, e) => failures.push(`${op}:${e.name}`),
      },
    );
    await expect(store.get('a')).rejects.toBeInstanceOf(CacheTimeoutError);
    await expect(store.get('a')).rejects.toBeInstanceOf(CacheTimeoutError);
    await expect(store.get('a')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(failures).toEqual([
      'get:CacheTimeoutError',
      'get:CacheTimeoutError',
      'get:CircuitOpenError',
    ]);
  });

  it('passes results through', async () => {
    const store = new FailOpenStore(new MemoryKeyvStore(10), 50, {
      failureThreshold: 2,
      cooldownMs: 10,
    });
    await store.set('a', 'x', 1000);
    expect(await store.get('a')).toBe('x');
    expect(await store.getMany(['a', 'b'])).toEqual(['x', undefined]);
    expect(await store.delete('a')).toBe(true);
  });
});
