import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

const MASK = '***';

/**
 * A value that must not leak: `String(s)`, `${s}`, `JSON.stringify(s)`, `util.inspect(s)`,
 * `console.log(s)` and log lines all print `***`; {@link reveal} gives the value to the code that
 * needs it. The value lives in a private field, so spreading or walking the object finds nothing.
 *
 * @example
 * const password = Secret.of(process.env.DB_PASSWORD!);
 * log.info({ password }, 'connecting');   // → "password":"***"
 * connect({ password: password.reveal() });
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
    Object.freeze(this);
  }

  /** Wraps a value. */
  static of<T>(value: T): Secret<T> {
    return new Secret(value);
  }

  /** True for a {@link Secret}. */
  static isSecret(value: unknown): value is Secret<unknown> {
    return value instanceof Secret;
  }

  /** The wrapped value. Use it at the last moment, never to log or return it. */
  reveal(): T {
    return this.#value;
  }

  /** A secret derived from this one (`s.map((v) => Buffer.from(v, 'base64'))`). */
  map<U>(fn: (value: T) => U): Secret<U> {
    return new Secret(fn(this.#value));
  }

  /**
   * Compares with a candidate string in constant time (via SHA-256 digests, so the length does
   * not leak either): for API keys, webhook secrets, basic-auth passwords.
   */
  equals(candidate: string | Secret<string>): boolean {
    const value = this.#value;
    if (typeof value !== 'string') return false;
    const other = candidate instanceof Secret ? candidate.reveal() : candidate;
    if (typeof other !== 'string') return false;
    const a = createHash('sha256').update(value).digest();
    const b = createHash('sha256').update(other).digest();
    return timingSafeEqual(a, b);
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}
