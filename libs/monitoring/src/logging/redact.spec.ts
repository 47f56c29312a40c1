import { describe, expect, it } from 'vitest';
import { DEFAULT_SECRET_KEY, redactDeep, secretKeyPattern, serializeError } from './redact.js';

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

  it('masks URL passwords and secret query parameters in string values, wherever they are', () => {
    const input = {
      url: 'https://x.test/a?token=abc&page=2',
      request: { line: 'GET /cb?code=123', path: '/cb?code=123&state=s' },
      targets: ['amqp://app:pw1@mq:5672/v', 'https://s3.test/o?X-Amz-Signature=f00'],
      note: 'what? nothing secret',
    };
    const out = redactDeep(input, DEFAULT_SECRET_KEY) as typeof input;
    expect(out).toEqual({
      url: 'https://x.test/a?token=***&page=2',
      request: { line: 'GET /cb?code=***', path: '/cb?code=***&state=s' },
      targets: ['amqp://app:***@mq:5672/v', 'https://s3.test/o?X-Amz-Signature=***'],
      note: 'what? nothing secret',
    });
    expect(JSON.stringify(out)).not.toMatch(/abc|pw1|f00/);
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

describe('serializeError', () => {
  it('serializes like pino and masks URLs in the message, the stack and string fields', () => {
    const error = Object.assign(new Error('cannot reach amqp://app:pw1@mq:5672 (/cb?code=123)'), {
      code: 'ECONNREFUSED',
      target: 'https://x.test/a?token=abc',
    });
    const out = serializeError(error) as Record<string, unknown>;
    expect(out).toMatchObject({
      type: 'Error',
      message: 'cannot reach amqp://app:***@mq:5672 (/cb?code=***)',
      code: 'ECONNREFUSED',
      target: 'https://x.test/a?token=***',
    });
    expect(String(out.stack)).toContain('amqp://app:***@mq');
    expect(JSON.stringify(out)).not.toMatch(/pw1|abc|code=123/);
  });
});
