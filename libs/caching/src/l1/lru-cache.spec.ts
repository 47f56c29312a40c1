import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond maxEntries and reports it', () => {
    const evicted: string[] = [];
    const lru = new LruCache<number>(2, (k) => evicted.push(k));
    lru.set('a', 1, Infinity);
    lru.set('b', 2, Infinity);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('c', 3, Infinity);
    expect(evicted).toEqual(['b']);
    expect([...lru.keys()]).toEqual(['a', 'c']);
  });

  it('expires entries by time', () => {
    const lru = new LruCache<number>(10);
    lru.set('a', 1, 100, 1000);
    expect(lru.get('a', 1099)).toBe(1);
    expect(lru.get('a', 1100)).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('replacing a key reports the old value as evicted', () => {
    const evicted: number[] = [];
    const lru = new LruCache<number>(10, (_k, v) => evicted.push(v));
    lru.set('a', 1, Infinity);
    lru.set('a', 2, Infinity);
    expect(evicted).toEqual([1]);
    expect(lru.peek('a')).toBe(2);
  });
});
