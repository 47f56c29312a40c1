import { CacheSerializationError } from '../errors.js';

/**
 * Turns cached values into strings and back. Replace it with `CachingModule.forRoot({ serializer })`
 * (e.g. for msgpack or encryption); it is used for every value that leaves the process (the shared
 * tier, and the in-process `memory` store so both stores behave the same).
 */
export interface CacheSerializer {
  /** Encodes `value`; throws {@link CacheSerializationError} (naming `key`) when it cannot. */
  serialize(key: string, value: unknown): string;
  /** Decodes what `serialize` produced. */
  deserialize(data: string): unknown;
}

const TAG = '$$cache';
// Payloads without special values are plain JSON read without a reviver (the fast path); the
// first character tells which.
const PLAIN = 'j';
const TAGGED = 't';

type Tagged = { [TAG]: string; v?: unknown; e?: unknown };

function describe(value: unknown): string | undefined {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value instanceof Promise) return 'a Promise';
  if (value instanceof WeakMap || value instanceof WeakSet) return 'a WeakMap/WeakSet';
  return undefined;
}

/**
 * The default serializer: JSON that round-trips `Date`, `BigInt`, `Buffer`/`Uint8Array`, `Map`,
 * `Set`, `NaN`/`±Infinity` and `-0`, and objects that happen to have a `$$cache` key. It refuses
 * functions, symbols, promises and cycles with an error naming the key. Class instances come back
 * as plain objects (their prototype is not stored); `undefined` object properties are dropped, as in
 * JSON.
 */
export class TaggedJsonSerializer implements CacheSerializer {
  serialize(key: string, value: unknown): string {
    const bad = describe(value);
    if (bad) throw new CacheSerializationError(key, `the value is ${bad}`);
    if (value === undefined) throw new CacheSerializationError(key, 'the value is undefined');
    let tagged = false;
    let problem: string | undefined;
    function replacer(this: Record<string, unknown>, prop: string, v: unknown): unknown {
      // `this[prop]` is the value before toJSON ran (Date and Buffer define one).
      const raw = this[prop];
      switch (typeof raw) {
        case 'string':
        case 'boolean':
          return v;
        case 'number':
          if (Number.isFinite(raw) && !Object.is(raw, -0)) return v;
          tagged = true;
          return { [TAG]: 'n', v: Object.is(raw, -0) ? '-0' : String(raw) };
        case 'bigint':
          tagged = true;
          return { [TAG]: 'b', v: raw.toString() };
        case 'function':
        case 'symbol': {
          problem ??= `property "${prop}" is ${describe(raw)}`;
          throw new Error(problem);
        }
        case 'undefined':
          return v;
        default:
          break;
      }
      if (raw === null) return v;
      if (raw instanceof Date) {
        tagged = true;
        return { [TAG]: 'd', v: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
      }
      if (raw instanceof Uint8Array) {
        tagged = true;
        return {
          [TAG]: Buffer.isBuffer(raw) ? 'B' : 'u',
          v: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64'),
        };
      }
      if (raw instanceof Map) {
        tagged = true;
        return { [TAG]: 'm', v: [...raw.entries()] };
      }
      if (raw instanceof Set) {
        tagged = true;
        return { [TAG]: 's', v: [...raw.values()] };
      }
      const inner = describe(raw);
      if (inner) {
        problem ??= `property "${prop}" is ${inner}`;
        throw new Error(problem);
      }
      if (!Array.isArray(raw) && Object.hasOwn(raw as object, TAG) && v === raw) {
        tagged = true;
        return { [TAG]: 'o', e: Object.entries(raw as object) };
      }
      return v;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(value, replacer);
    } catch (error) {
      const reason =
        problem ??
        (/circular/i.test((error as Error).message)
          ? 'the value has a circular reference'
          : (error as Error).message);
      throw new CacheSerializationError(key, reason, { cause: error });
    }
    if (json === undefined) throw new CacheSerializationError(key, 'the value is not serialisable');
    return (tagged ? TAGGED : PLAIN) + json;
  }

  deserialize(data: string): unknown {
    const body = data.slice(1);
    if (data.charCodeAt(0) !== 116 /* t */) return JSON.parse(body);
    return JSON.parse(body, revive);
  }
}

function revive(_key: string, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const t = (v as Tagged)[TAG];
  if (typeof t !== 'string') return v;
  const inner = (v as Tagged).v;
  switch (t) {
    case 'd':
      return inner === null ? new Date(Number.NaN) : new Date(inner as string);
    case 'b':
      return BigInt(inner as string);
    case 'n':
      return Number(inner as string);
    case 'B':
      return Buffer.from(inner as string, 'base64');
    case 'u':
      return new Uint8Array(Buffer.from(inner as string, 'base64'));
    case 'm':
      return new Map(inner as Array<[unknown, unknown]>);
    case 's':
      return new Set(inner as unknown[]);
    case 'o':
      return Object.fromEntries((v as Tagged).e as Array<[string, unknown]>);
    default:
      return v;
  }
}
