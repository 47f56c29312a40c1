import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheTimeoutError, CircuitOpenError } from '../errors.js';
import { FailOpenStore, MAX_GET_BATCH } from './fail-open.store.js';
import { MemoryKeyvStore } from './memory.store.js';

class HangingStore extends MemoryKeyvStore {
  override get<V>(): Promise<V> {
    return new Promise(() => {});
  }
}

class FailingStore extends MemoryKeyvStore {
  override get<V>(): Promise<V> {
    return Promise.reject(new Error('broken'));
  }
}

describe('FailOpenStore over an in-process store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes straight to the store: no timer, no batch', async () => {
    const inner = new MemoryKeyvStore(10);
    const getMany = vi.spyOn(inner, 'getMany');
    const store = new FailOpenStore(
      inner,
      50,
      { failureThreshold: 1, cooldownMs: 60_000 },
      {},
      true,
    );
    await store.set('a', 'x', 1000);
    vi.useFakeTimers();
    const reads = [store.get('a'), store.get('b'), store.getMany(['a', 'b'])];
    expect(vi.getTimerCount()).toBe(0);
    expect(await Promise.all(reads)).toEqual(['x', undefined, ['x', undefined]]);
    expect(getMany).toHaveBeenCalledTimes(1); // the explicit getMany; the two gets were not batched
  });

  it("passes the store's errors through without opening the circuit", async () => {
    const failures: string[] = [];
    const store = new FailOpenStore(
      new FailingStore(10),
      50,
      { failureThreshold: 1, cooldownMs: 60_000 },
      { onFailure: (op) => failures.push(op) },
      true,
    );
    await expect(store.get('a')).rejects.toThrow('broken');
    await expect(store.get('a')).rejects.toThrow('broken');
    expect(store.circuit.state).toBe('closed');
    expect(failures).toEqual([]);
  });
});

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

/** Records what reaches the store; `hang` makes every read never answer, `fail` reject. */
class CountingStore extends MemoryKeyvStore {
  gets: string[] = [];
  batches: string[][] = [];
  hang = false;
  fail = false;

  override get<V>(key: string): Promise<V> {
    this.gets.push(key);
    return this.answer(() => super.get<V>(key) as Promise<V>);
  }

  override getMany<V>(keys: string[]): Promise<V[]> {
    this.batches.push(keys);
    return this.answer(() => super.getMany<V>(keys) as Promise<V[]>);
  }

  private answer<T>(read: () => Promise<T>): Promise<T> {
    if (this.hang) return new Promise(() => {});
    if (this.fail) return Promise.reject(new Error('connection lost'));
    return read();
  }
}

describe('FailOpenStore: concurrent gets are batched', () => {
  const circuit = { failureThreshold: 5, cooldownMs: 60_000 };

  it('gets issued in the same tick reach the store as one getMany, each with its own value', async () => {
    const inner = new CountingStore(100);
    const store = new FailOpenStore(inner, 1000, circuit);
    for (let i = 0; i < 32; i += 2) await store.set(`k${i}`, `v${i}`, 60_000);
    const keys = Array.from({ length: 32 }, (_, i) => `k${i}`);
    const values = await Promise.all(keys.map((k) => store.get(k)));
    expect(values).toEqual(keys.map((_, i) => (i % 2 === 0 ? `v${i}` : undefined)));
    expect(inner.batches).toEqual([keys]);
    expect(inner.gets).toEqual([]);
  });

  it('a lone get stays a get; gets in later ticks form batches of their own', async () => {
    const inner = new CountingStore(100);
    const store = new FailOpenStore(inner, 1000, circuit);
    await store.set('a', 'x', 60_000);
    expect(await store.get('a')).toBe('x');
    expect(await Promise.all([store.get('a'), store.get('b')])).toEqual(['x', undefined]);
    expect(inner.gets).toEqual(['a']);
    expect(inner.batches).toEqual([['a', 'b']]);
  });

  it(`splits more than ${MAX_GET_BATCH} concurrent gets into batches of at most that many`, async () => {
    const inner = new CountingStore(10);
    const store = new FailOpenStore(inner, 1000, circuit);
    const n = MAX_GET_BATCH * 2 + 3;
    const values = await Promise.all(Array.from({ length: n }, (_, i) => store.get(`k${i}`)));
    expect(values).toHaveLength(n);
    expect(inner.batches.map((b) => b.length)).toEqual([MAX_GET_BATCH, MAX_GET_BATCH, 3]);
  });

  it('a batch that times out fails every get in it, one timeout and one circuit failure per get', async () => {
    const inner = new CountingStore(10);
    inner.hang = true;
    const failures: string[] = [];
    const opened: string[] = [];
    const store = new FailOpenStore(
      inner,
      20,
      { failureThreshold: 3, cooldownMs: 60_000 },
      {
        onFailure: (op, e) => failures.push(`${op}:${e.name}`),
        onCircuit: (s) => opened.push(s),
      },
    );
    const results = await Promise.allSettled([store.get('a'), store.get('b'), store.get('c')]);
    expect(
      results.map((r) => r.status === 'rejected' && r.reason instanceof CacheTimeoutError),
    ).toEqual([true, true, true]);
    expect(failures).toEqual(Array.from({ length: 3 }, () => 'get:CacheTimeoutError'));
    // Three failed gets reach the threshold, as three separate gets would.
    expect(opened).toEqual(['open']);
    await expect(store.get('a')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(inner.batches).toEqual([['a', 'b', 'c']]);
  });

  it('a batch that fails rejects every get in it with the error; the next batch succeeds and resets', async () => {
    const inner = new CountingStore(10);
    const store = new FailOpenStore(inner, 1000, { failureThreshold: 3, cooldownMs: 60_000 });
    inner.fail = true;
    const failed = await Promise.allSettled([store.get('a'), store.get('b')]);
    expect(
      failed.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value)),
    ).toEqual(['connection lost', 'connection lost']);
    inner.fail = false;
    expect(await Promise.all([store.get('a'), store.get('b')])).toEqual([undefined, undefined]);
    expect(store.circuit.state).toBe('closed');
  });
});
