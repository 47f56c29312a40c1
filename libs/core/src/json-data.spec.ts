import { describe, expect, it } from 'vitest';

import { copyJsonData, toJsonData } from './json-data.js';

const roundTrip = (value: unknown): unknown => {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
};

class Money {
  constructor(
    readonly cents: number,
    readonly currency: string,
  ) {}
  toJSON(key: string) {
    return { amount: this.cents / 100, currency: this.currency, key };
  }
}

class WithPrototypeField {
  own = 1;
}
(WithPrototypeField.prototype as unknown as { inherited: number }).inherited = 2;

const hidden = Object.defineProperty({ shown: 1 }, 'hidden', { value: 2, enumerable: false });
const withGetter = {
  get computed() {
    return 'from getter';
  },
};
const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
const arrayWithProp = Object.assign([1, 2], { extra: 'dropped' });
const symbolKeyed = { [Symbol('s')]: 1, kept: true };
const fnWithToJson = Object.assign(() => 1, { toJSON: () => 'fn' });

const cases: Record<string, unknown> = {
  'a flat event payload': { orderId: 'o-1', totalCents: 1250, paid: true, note: null },
  'nested objects and arrays': {
    lines: [
      { sku: 'A', qty: 2 },
      { sku: 'B', qty: [1, [2, [3]]] },
    ],
  },
  'a Date (toJSON)': { at: new Date(Date.UTC(2026, 11, 6, 20, 1, 2, 3)) },
  'an invalid Date': { at: new Date(Number.NaN) },
  'toJSON with the key, in objects and arrays': {
    price: new Money(1250, 'EUR'),
    list: [new Money(1, 'USD')],
  },
  'undefined, functions and symbols': {
    u: undefined,
    f: () => 1,
    s: Symbol('x'),
    list: [undefined, () => 1, Symbol('y')],
  },
  'non-finite numbers': {
    nan: Number.NaN,
    inf: Infinity,
    ninf: -Infinity,
    negZero: -0,
    list: [Number.NaN],
  },
  'boxed primitives': {
    n: Object(5),
    s: Object('text'),
    b: Object(false),
    nan: Object(Number.NaN),
  },
  'a fake boxed number (toStringTag)': { fake: { [Symbol.toStringTag]: 'Number', v: 1 } },
  'a boxed number subclass': { sub: new (class extends Number {})(7) },
  'Map, Set and a typed array': {
    map: new Map([[1, 2]]),
    set: new Set([1]),
    bytes: new Uint8Array([1, 2]),
  },
  'a class instance (own fields only)': { value: new WithPrototypeField() },
  'non-enumerable and getters': { hidden, withGetter },
  'a sparse array and an array with a property': { sparse, arrayWithProp },
  'symbol keys': symbolKeyed,
  'a function with toJSON': { fn: fnWithToJson },
  'integer-like keys (ordered first)': { b: 1, 2: 'two', a: 3, 1: 'one' },
  'a __proto__ own key': JSON.parse('{"__proto__":{"polluted":true},"x":1}') as unknown,
  'the same object twice (not a cycle)': (() => {
    const shared = { v: 1 };
    return { a: shared, b: [shared, shared] };
  })(),
  'a top-level array': [1, 'two', { three: 3 }],
  'a top-level string': 'text',
  'a top-level number': 42,
  'top-level null': null,
  'top-level undefined': undefined,
  'a top-level function': () => 1,
};

describe('toJsonData', () => {
  for (const [name, value] of Object.entries(cases)) {
    it(`equals JSON.parse(JSON.stringify(v)) for ${name}`, () => {
      const copied = toJsonData(value);
      expect(copied).toStrictEqual(roundTrip(value));
      // The same text too: key order and `__proto__` as an own key.
      expect(JSON.stringify(copied)).toBe(JSON.stringify(value));
    });
  }

  it('keeps a __proto__ key an own property and pollutes nothing', () => {
    const copied = toJsonData(JSON.parse('{"__proto__":{"polluted":true}}')) as object;
    expect(Object.keys(copied)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('shares nothing with its input', () => {
    const input = { lines: [{ sku: 'A' }], meta: { tags: ['x'] } };
    const copied = toJsonData(input) as typeof input;
    copied.lines[0]!.sku = 'changed';
    copied.meta.tags.push('y');
    expect(input).toEqual({ lines: [{ sku: 'A' }], meta: { tags: ['x'] } });
  });

  it('throws the TypeError JSON.stringify throws for a BigInt', () => {
    expect(() => JSON.stringify({ n: 1n })).toThrow(TypeError);
    expect(() => toJsonData({ n: 1n })).toThrow(TypeError);
    expect(() => toJsonData([1n])).toThrow(/BigInt/);
  });

  it('calls a BigInt toJSON when one is defined, as JSON.stringify does', () => {
    const proto = BigInt.prototype as unknown as { toJSON?: () => string };
    proto.toJSON = function (this: bigint) {
      return this.toString();
    };
    try {
      expect(toJsonData({ n: 12n })).toStrictEqual(roundTrip({ n: 12n }));
      expect(toJsonData({ n: 12n })).toStrictEqual({ n: '12' });
    } finally {
      delete proto.toJSON;
    }
  });

  it('throws a TypeError for a cycle, as JSON.stringify does', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => JSON.stringify(cyclic)).toThrow(TypeError);
    expect(() => toJsonData(cyclic)).toThrow(/circular/);
    const list: unknown[] = [];
    list.push(list);
    expect(() => toJsonData(list)).toThrow(TypeError);
  });

  it('gives a toJSON that copies on its own a fresh cycle check, and recovers from a throw', () => {
    const inner = { v: 1 };
    const outer = {
      inner,
      wrapped: { toJSON: () => toJsonData({ again: inner }) },
    };
    expect(toJsonData(outer)).toStrictEqual(roundTrip(outer));
    expect(() =>
      toJsonData({
        bad: {
          toJSON: () => {
            throw new Error('x');
          },
        },
      }),
    ).toThrow('x');
    // Nothing left over from the throw: the same object copies again without a "cycle".
    expect(toJsonData({ a: inner, b: inner })).toStrictEqual({ a: { v: 1 }, b: { v: 1 } });
  });

  it('passes an error of a getter or toJSON through', () => {
    const boom = new Error('boom');
    const bad = {
      get field() {
        throw boom;
      },
    };
    expect(() => toJsonData(bad)).toThrow(boom);
    expect(() =>
      toJsonData({
        x: {
          toJSON: () => {
            throw boom;
          },
        },
      }),
    ).toThrow(boom);
  });
});

describe('copyJsonData', () => {
  it('deep-copies JSON data: equal, sharing nothing', () => {
    const data = JSON.parse(
      '{"a":[{"b":1},[2,[3]]],"c":{"d":null,"e":"x"},"__proto__":{"p":1}}',
    ) as Record<string, unknown>;
    const copied = copyJsonData(data);
    expect(copied).toStrictEqual(data);
    expect(JSON.stringify(copied)).toBe(JSON.stringify(data));
    expect(copied.a).not.toBe(data.a);
    expect((copied.a as unknown[])[0]).not.toBe((data.a as unknown[])[0]);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
  });

  it('returns primitives as they are', () => {
    for (const v of ['s', 1, true, null, undefined]) expect(copyJsonData(v)).toBe(v);
  });
});
