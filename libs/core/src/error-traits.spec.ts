import { describe, expect, it } from 'vitest';
import { errorTraits, traitOf } from './error-traits.js';

class Unavailable extends Error {
  readonly httpStatus = 503;
  readonly publicMessage = 'try again shortly';
  readonly retryable = false;
  readonly countsAsFailure = false;
  readonly httpHeaders = { 'Retry-After': '5' };
}

describe('error traits', () => {
  it('reads the traits an error declares', () => {
    const error = new Unavailable('db down');
    expect(traitOf(error, 'httpStatus')).toBe(503);
    expect(traitOf(error, 'retryable')).toBe(false);
    expect(errorTraits(error)).toEqual({
      httpStatus: 503,
      publicMessage: 'try again shortly',
      retryable: false,
      countsAsFailure: false,
      httpHeaders: { 'Retry-After': '5' },
    });
  });

  it('ignores undeclared and mistyped traits and non-objects', () => {
    expect(traitOf(new Error('x'), 'retryable')).toBeUndefined();
    expect(traitOf({ httpStatus: '503', httpHeaders: null }, 'httpStatus')).toBeUndefined();
    expect(errorTraits({ httpStatus: '503', httpHeaders: null, retryable: 0 })).toEqual({});
    expect(errorTraits(null)).toEqual({});
    expect(errorTraits('boom')).toEqual({});
  });
});
