import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MailConfigError } from './errors.js';
import { resolveMailOptions, type MailOptions } from './mail.options.js';

function smtpOf(options: MailOptions) {
  return resolveMailOptions(options).smtp!;
}

describe('resolveMailOptions', () => {
  it.each([
    [{}, 'MailModule: options.url: no SMTP server configured'],
    [{ transport: 'smtp' }, 'MailModule: options.url: is required for transport "smtp"'],
    [{ url: 'http://mail.example.com' }, 'MailModule: options.url: must be an smtp:// or smtps://'],
    [{ url: 'smtp://mail.example.com/path' }, 'options.url: must be an smtp://'],
    [{ url: 'smtp://mail.example.com?tls=false' }, 'options.url: must be an smtp://'],
    [{ url: 'smtp://a', host: 'b' }, 'MailModule: options.host: give url or host, not both'],
    [{ host: 'smtp://mail.example.com' }, 'MailModule: options.host: must be a host name'],
    [{ host: 'h', port: 70_000 }, 'MailModule: options.port:'],
    [
      { host: 'h', auth: { user: 'u', pass: '' } },
      'MailModule: options.auth.pass: must not be empty',
    ],
    [{ host: 'h', from: 'nobody' }, 'MailModule: options.from: must be an address'],
    [{ host: 'h', timeoutMs: -1 }, 'MailModule: options.timeoutMs:'],
    [{ host: 'h', retry: { maxAttempts: 'x' } }, 'MailModule: options.retry'],
    [{ host: 'h', circuitBreaker: { failures: 3 } }, 'MailModule: options.circuitBreaker'],
    [{ host: 'h', maxConnections: 0 }, 'MailModule: options.maxConnections:'],
    [{ host: 'h', transport: 'sendmail' }, 'MailModule: options.transport:'],
    [{ host: 'h', pool: true }, 'MailModule: options'],
  ])('refuses %j naming the key', (options, message) => {
    expect(() => resolveMailOptions(options as MailOptions)).toThrow(MailConfigError);
    expect(() => resolveMailOptions(options as MailOptions)).toThrow(message);
  });

  it('masks the password of a bad URL in the error', () => {
    expect(() => resolveMailOptions({ url: 'http://user:hunter22@mail.example.com' })).toThrow(
      'got "http://user:***@mail.example.com/"',
    );
    expect(() => resolveMailOptions({ url: 'http://user:hunter22@mail.example.com' })).not.toThrow(
      /hunter22/,
    );
  });

  it('reads host, port, TLS and percent-decoded credentials from an smtp:// URL', () => {
    const smtp = smtpOf({ url: 'smtp://mailer%40shop:p%40ss%2Fw0rd@mail.example.com:2525' });
    expect(smtp).toMatchObject({ host: 'mail.example.com', port: 2525, secure: false });
    expect(smtp.auth).toEqual({ user: 'mailer@shop', pass: 'p@ss/w0rd' });
    expect(smtp.server).toBe('smtp://mailer%40shop:***@mail.example.com:2525');
  });

  it('defaults the port to 587, or 465 with smtps:// (TLS from the start)', () => {
    expect(smtpOf({ url: 'smtp://mail.example.com' })).toMatchObject({ port: 587, secure: false });
    expect(smtpOf({ url: 'smtps://mail.example.com' })).toMatchObject({ port: 465, secure: true });
    expect(smtpOf({ host: 'mail.example.com', secure: true })).toMatchObject({ port: 465 });
    expect(smtpOf({ url: 'smtp://[::1]:25' })).toMatchObject({ host: '::1', port: 25 });
  });

  it('lets auth win over the credentials of the URL', () => {
    const smtp = smtpOf({ url: 'smtp://a:b@h', auth: { user: 'c', pass: 'd' } });
    expect(smtp.auth).toEqual({ user: 'c', pass: 'd' });
    expect(smtp.server).toBe('smtp://c:***@h:587');
  });

  it('keeps the password out of inspect and JSON of the resolved options', () => {
    const resolved = resolveMailOptions({ url: 'smtp://u:Sup3rS3cret@h' });
    expect(resolved.smtp!.auth?.pass).toBe('Sup3rS3cret');
    expect(inspect(resolved, { depth: 10 })).not.toContain('Sup3rS3cret');
    expect(JSON.stringify(resolved)).not.toContain('Sup3rS3cret');
  });

  it('applies mail defaults, merging partial resilience options', () => {
    const smtp = smtpOf({ host: 'h', retry: { maxAttempts: 4 }, bulkhead: false });
    expect(smtp).toMatchObject({
      requireTls: false,
      maxConnections: 5,
      maxMessages: 100,
      connectionTimeoutMs: 5000,
      greetingTimeoutMs: 5000,
      socketTimeoutMs: 30_000,
      healthCritical: false,
      healthTimeoutMs: 3000,
      healthCacheMs: 30_000,
    });
    expect(smtp.resilience).toEqual({
      name: 'mail',
      timeoutMs: 60_000,
      attemptTimeoutMs: 20_000,
      retry: { maxAttempts: 4, initialDelayMs: 500, maxDelayMs: 5000, maxRetryAfterMs: 5000 },
      circuitBreaker: { kind: 'consecutive', consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
      bulkhead: false,
    });
  });

  it('needs no server for the memory and log transports', () => {
    expect(resolveMailOptions({ transport: 'memory' })).toEqual({
      transport: 'memory',
      from: undefined,
      logBodies: false,
    });
    expect(resolveMailOptions({ transport: 'log', logBodies: true }).logBodies).toBe(true);
  });
});
