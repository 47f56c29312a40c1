import { describe, expect, it } from 'vitest';
import { MailConfigError } from './errors.js';
import { mailConfig, mailOptionsFrom } from './mail.config.js';

const values = {
  transport: undefined,
  url: undefined,
  password: undefined,
  from: 'no-reply@shop.test',
  requireTls: false,
  maxConnections: 5,
  timeoutMs: 60_000,
  retries: 2,
  healthCritical: false,
} as const;

describe('mailConfig', () => {
  it('declares SMTP_* and MAIL_* variables under the mail namespace', () => {
    expect(mailConfig.namespace).toBe('mail');
    expect(Object.values(mailConfig.fields).map((f) => f.env)).toEqual([
      'MAIL_TRANSPORT',
      'SMTP_URL',
      'SMTP_PASSWORD',
      'MAIL_FROM',
      'SMTP_REQUIRE_TLS',
      'SMTP_MAX_CONNECTIONS',
      'SMTP_TIMEOUT_MS',
      'SMTP_RETRIES',
      'MAIL_HEALTH_CRITICAL',
    ]);
    expect(mailConfig.fields.password.secret).toBe(true);
    expect(mailConfig.fields.url.maskUrlPassword).toBe(true);
  });
});

describe('mailOptionsFrom', () => {
  it('maps SMTP_URL and friends to smtp options', () => {
    expect(
      mailOptionsFrom({ ...values, url: 'smtps://mailer@mail.test', password: 'pw', retries: 1 }),
    ).toEqual({
      transport: 'smtp',
      url: 'smtps://mailer@mail.test',
      auth: { user: 'mailer', pass: 'pw' },
      from: 'no-reply@shop.test',
      requireTls: false,
      maxConnections: 5,
      timeoutMs: 60_000,
      retry: { maxAttempts: 1 },
      healthCritical: false,
    });
  });

  it('without SMTP_URL logs in development, keeps in memory in test, fails in production', () => {
    expect(mailOptionsFrom(values, { environment: 'development' }).transport).toBe('log');
    expect(mailOptionsFrom(values).transport).toBe('log');
    expect(mailOptionsFrom(values, { environment: 'test' }).transport).toBe('memory');
    expect(() => mailOptionsFrom(values, { environment: 'production' })).toThrow(
      new MailConfigError(
        'mailConfig: SMTP_URL is required in production (or set MAIL_TRANSPORT=log to only log mails)',
      ),
    );
    expect(
      mailOptionsFrom({ ...values, transport: 'log' }, { environment: 'production' }).transport,
    ).toBe('log');
  });

  it('names the variable when the SMTP settings do not fit together', () => {
    expect(() => mailOptionsFrom({ ...values, transport: 'smtp' })).toThrow(
      'SMTP_URL is required when MAIL_TRANSPORT=smtp',
    );
    expect(() => mailOptionsFrom({ ...values, url: 'smtp://mail.test', password: 'pw' })).toThrow(
      'SMTP_PASSWORD is set but SMTP_URL has no user',
    );
  });

  it('lets explicit options win', () => {
    const o = mailOptionsFrom(
      { ...values, url: 'smtp://mail.test' },
      {},
      { from: 'other@shop.test', retry: false, healthCacheMs: 0 },
    );
    expect(o).toMatchObject({ from: 'other@shop.test', retry: false, healthCacheMs: 0 });
  });
});
