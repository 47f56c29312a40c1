import { describe, expect, it } from 'vitest';
import { DEFAULT_SECRET_KEY, redactDeep, secretKeyPattern } from './redact.js';

describe('redactDeep', () => {
  it('masks secret-looking keys at any depth, in arrays too, without touching the input', () => {
    const input = {
      headers: { authorization: 'Bearer x', cookie: 'c', 'x-api-key': 'k', accept: 'json' },
      user: { name: 'ann', credentials: { password: 'p', privateKey: 'pk' } },
      list: [{ accessToken: 't' }, 'plain'],
      count: 3,
    };
    const out = redactDeep(input, DEFAULT_SECRET_KEY) as typeof input;
    expect(out.headers).toEqual({
      authorization: '[REDACTED]',
      cookie: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      accept: 'json',
    });
    expect(out.user).toEqual({ name: 'ann', credentials: '[REDACTED]' });
    expect(out.list).toEqual([{ accessToken: '[REDACTED]' }, 'plain']);
    expect(input.headers.authorization).toBe('Bearer x');
  });

  it('returns the same object when nothing needs masking, and survives cycles', () => {
    const plain = { a: 1, b: { c: 'd' } };
    expect(redactDeep(plain, DEFAULT_SECRET_KEY)).toBe(plain);
    const cyclic: Record<string, unknown> = { secret: 's' };
    cyclic.self = cyclic;
    expect(redactDeep(cyclic, DEFAULT_SECRET_KEY)).toMatchObject({
      secret: '[REDACTED]',
      self: '[Circular]',
    });
  });

  it('adds exact extra keys', () => {
    const pattern = secretKeyPattern(['ssn']);
    expect(redactDeep({ ssn: '123', ssnLast4: '1234' }, pattern)).toEqual({
      ssn: '[REDACTED]',
      ssnLast4: '1234',
    });
  });
});
