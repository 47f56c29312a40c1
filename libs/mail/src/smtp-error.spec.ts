import { describe, expect, it } from 'vitest';
import { MailDeliveryError, MailTransientError } from './errors.js';
import { isPermanentReply, scrub, toMailError } from './smtp-error.js';

const ctx = { server: 'smtp://u:***@mail.test:587', attempts: 2, secrets: ['hunter22/x'] };

function driverError(fields: Record<string, unknown>, message = 'driver says no'): Error {
  return Object.assign(new Error(message), fields);
}

describe('toMailError', () => {
  it.each([
    [{ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }, 'MailDeliveryError', false],
    [{ code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, 'MailDeliveryError', false],
    [{ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }, 'MailDeliveryError', true],
    [{ code: 'EENVELOPE', responseCode: 530, command: 'MAIL FROM' }, 'MailDeliveryError', true],
    [{ code: 'ENOAUTH' }, 'MailDeliveryError', true],
    [{ code: 'ETLS' }, 'MailDeliveryError', true],
    [{ code: 'EMESSAGE', responseCode: 451, command: 'DATA' }, 'MailTransientError', true],
    [{ code: 'EENVELOPE', responseCode: 503, command: 'RCPT TO' }, 'MailTransientError', true],
    [{ code: 'ECONNECTION', responseCode: 421 }, 'MailTransientError', true],
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED' }, 'MailTransientError', true],
    [{ code: 'ETIMEDOUT' }, 'MailTransientError', true],
    [{ code: 'EDNS' }, 'MailTransientError', true],
  ])('classifies %j as %s (breaker counts it: %s)', (fields, name, counts) => {
    const error = toMailError(driverError(fields), ctx) as Error & { countsAsFailure: boolean };
    expect(error.name).toBe(name);
    expect(error.countsAsFailure).toBe(counts);
  });

  it('trusts the driver`s own permanent flag over the reply class', () => {
    const error = toMailError(
      driverError({ code: 'EMESSAGE', responseCode: 552, permanent: false }),
      ctx,
    );
    expect(error).toBeInstanceOf(MailTransientError);
  });

  it('carries the reply, command, rejected recipients and attempts, with secrets removed', () => {
    const error = toMailError(
      driverError({
        code: 'EENVELOPE',
        responseCode: 550,
        command: 'RCPT TO',
        response: '550 5.1.1 no such user hunter22/x\r\nsecond line',
        rejected: ['x@y.test'],
      }),
      ctx,
    ) as MailDeliveryError;
    expect(error).toMatchObject({
      server: ctx.server,
      code: 'EENVELOPE',
      responseCode: 550,
      command: 'RCPT TO',
      response: '550 5.1.1 no such user ***',
      rejected: ['x@y.test'],
      attempts: 2,
      retryable: false,
    });
    expect(error.message).toBe(
      'mail: smtp://u:***@mail.test:587 answered 550 to RCPT TO: 5.1.1 no such user ***; gave up after 2 attempts',
    );
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('names the connection failure when there is no reply', () => {
    const error = toMailError(
      driverError(
        { code: 'ESOCKET', originalCode: 'ECONNREFUSED' },
        'connect ECONNREFUSED 127.0.0.1:25',
      ),
      { ...ctx, attempts: 1 },
    ) as MailTransientError;
    expect(error.message).toBe(
      'mail: smtp://u:***@mail.test:587 failed: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:25)',
    );
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('returns aborts and errors that are not the driver`s unchanged', () => {
    const abort = driverError({ name: 'AbortError', code: 'EABORT' });
    const bug = new TypeError('x is not a function');
    expect(toMailError(abort, ctx)).toBe(abort);
    expect(toMailError(bug, ctx)).toBe(bug);
  });
});

describe('isPermanentReply', () => {
  it('treats 5xx as permanent except 503, and 4xx as transient', () => {
    expect([550, 551, 552, 553, 554, 535, 503, 421, 450, 451, 452].map(isPermanentReply)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('scrub', () => {
  it('masks raw and percent-encoded secrets and keeps the first line', () => {
    expect(scrub('a hunter22/x b hunter22%2Fx\nmore', ['hunter22/x'])).toBe('a *** b ***');
    expect(scrub(undefined, ['s3cret'])).toBeUndefined();
    expect(scrub('x'.repeat(400), [])).toHaveLength(300);
  });
});
