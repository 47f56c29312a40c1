import { describe, expect, it } from 'vitest';
import { CacheSerializationError } from '../errors.js';
import { TaggedJsonSerializer } from './cache-serializer.js';

const s = new TaggedJsonSerializer();
const roundTrip = (v: unknown) => s.deserialize(s.serialize('k', v));

describe('TaggedJsonSerializer', () => {
  it('writes plain JSON (fast path) when there is nothing special', () => {
    expect(s.serialize('k', { a: [1, 'x', null, true] })).toBe('j{"a":[1,"x",null,true]}');
  });

  it('round-trips special values at any depth, top level included', () => {
    expect(roundTrip(new Date(5))).toEqual(new Date(5));
    expect(roundTrip(10n)).toBe(10n);
    expect(roundTrip([{ m: new Map([[1, new Set([new Date(7)])]]) }])).toEqual([
      { m: new Map([[1, new Set([new Date(7)])]]) },
    ]);
    expect(roundTrip({ d: new Date(Number.NaN) })).toEqual({ d: new Date(Number.NaN) });
    expect(roundTrip({ i: Infinity })).toEqual({ i: Infinity });
  });

  it('escapes user objects that carry the tag key', () => {
    const v = { $$cache: 'b', v: '12', inner: { $$cache: 'o', e: [] } };
    expect(roundTrip(v)).toEqual(v);
  });

  it('drops undefined properties like JSON and turns class instances into plain objects', () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    expect(roundTrip({ a: undefined, m: new Money(5) })).toEqual({ m: { cents: 5 } });
  });

  it('names the key and the property of what it cannot serialise', () => {
    expect(() => s.serialize('order:1', { nested: { cb: () => 1 } })).toThrow(
      new CacheSerializationError('order:1', 'property "cb" is a function'),
    );
    expect(() => s.serialize('order:1', () => 1)).toThrow(
      'cannot cache key "order:1": the value is a function',
    );
    expect(() => s.serialize('order:1', Promise.resolve(1))).toThrow('the value is a Promise');
    expect(() => s.serialize('order:1', { p: Promise.resolve(1) })).toThrow(
      'property "p" is a Promise',
    );
  });
});
