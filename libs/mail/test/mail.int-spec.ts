import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MailDeliveryError, MailTransientError } from '../src/errors.js';
import { resolveMailOptions, type MailOptions } from '../src/mail.options.js';
import { SmtpMailSender } from '../src/senders/smtp-mail.sender.js';
import { CircuitOpenError } from '@infrastructure/http-client';
import { SmtpSink } from './smtp-sink.js';

const FROM = '"Shop" <no-reply@shop.test>';
const PASSWORD = 'S3cr3t p@ss/w0rd';

let sink: SmtpSink;
const senders: SmtpMailSender[] = [];

/** A sender for `url` with fast retries (1-5 ms backoff); closed after each test. */
async function senderFor(url: string, options: MailOptions = {}): Promise<SmtpMailSender> {
  const resolved = resolveMailOptions({
    url,
    from: FROM,
    retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 },
    connectionTimeoutMs: 2000,
    ...options,
  });
  const sender = await SmtpMailSender.create(resolved.smtp!, resolved.from);
  senders.push(sender);
  return sender;
}

/** The rejection of `promise` (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error & Record<string, unknown>,
  );
  if (!outcome) throw new Error('expected the send to fail, it succeeded');
  return outcome;
}

/** Counts the retries of `sender`'s pipeline. */
function countRetries(sender: SmtpMailSender): { count: number } {
  const retries = { count: 0 };
  sender.policy.subscribe({ onRetry: () => void retries.count++ });
  return retries;
}

function withCredentials(url: string, user: string, pass: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = encodeURIComponent(pass);
  return u.toString();
}

beforeAll(async () => {
  sink = await SmtpSink.start();
});

afterAll(async () => {
  await sink.stop();
});

beforeEach(() => sink.reset());

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
});

describe('SmtpMailSender against a real SMTP server', () => {
  it('delivers text, html, cc, bcc, reply-to, headers and an attachment; the receipt names the accepted recipients', async () => {
    const sender = await senderFor(sink.url);
    const received = sink.nextMail();
    const receipt = await sender.send({
      to: 'Ann <ann@example.test>',
      cc: ['bob@example.test'],
      bcc: 'audit@example.test',
      replyTo: 'support@shop.test',
      subject: 'Your order 42',
      text: 'Thanks for order 42.',
      html: '<p>Thanks for <b>order 42</b>.</p>',
      headers: { 'X-Campaign': 'orders' },
      attachments: [
        {
          filename: 'invoice-42.txt',
          content: Buffer.from('invoice body'),
          contentType: 'text/plain',
        },
      ],
    });
    const mail = await received;
    expect(mail.from).toBe('no-reply@shop.test');
    expect(mail.to).toEqual(['ann@example.test', 'bob@example.test', 'audit@example.test']);
    expect(receipt.accepted).toEqual([
      'ann@example.test',
      'bob@example.test',
      'audit@example.test',
    ]);
    expect(receipt.rejected).toEqual([]);
    expect(receipt.messageId).toMatch(/^<[0-9a-f-]{36}@shop\.test>$/);
    expect(mail.raw).toContain(`Message-ID: ${receipt.messageId}`);
    expect(mail.raw).toContain('Subject: Your order 42');
    expect(mail.raw).toContain('To: Ann <ann@example.test>');
    expect(mail.raw).toContain('Cc: bob@example.test');
    expect(mail.raw).toContain('Reply-To: support@shop.test');
    expect(mail.raw).toContain('X-Campaign: orders');
    expect(mail.raw).toContain('Thanks for order 42.');
    expect(mail.raw).toContain('filename=invoice-42.txt');
    expect(mail.raw).toContain(Buffer.from('invoice body').toString('base64'));
    expect(mail.raw).not.toMatch(/^Bcc:/im);
  });

  it('sends consecutive messages over one pooled connection', async () => {
    const sender = await senderFor(sink.url);
    for (const n of [1, 2, 3]) {
      await sender.send({ to: 'ann@example.test', subject: `n${n}`, text: 'x' });
    }
    expect(sink.received.map((m) => m.raw.match(/^Subject: (.*)$/m)?.[1])).toEqual([
      'n1',
      'n2',
      'n3',
    ]);
    expect(sink.connections).toBe(1);
  });

  it('fails at once with MailDeliveryError 550 on a permanent rejection (no retry)', async () => {
    sink.fail('rcpt', 550, '5.1.1 <nobody@example.test>: no such user');
    const sender = await senderFor(sink.url);
    const retries = countRetries(sender);
    const error = await failure(
      sender.send({ to: 'nobody@example.test', subject: 'hi', text: 'x' }),
    );
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect(error).toMatchObject({
      responseCode: 550,
      command: 'RCPT TO',
      retryable: false,
      attempts: 1,
    });
    expect(error.message).toContain(
      `answered 550 to RCPT TO: 5.1.1 <nobody@example.test>: no such user`,
    );
    expect(retries.count).toBe(0);
    expect(sink.failuresSent).toBe(1);
    expect(sink.received).toEqual([]);
  });

  it('delivers to the accepted recipients and reports the refused ones', async () => {
    sink.fail('rcpt', 550, '5.1.1 no such user', 1, 'gone@example.test');
    const sender = await senderFor(sink.url);
    const receipt = await sender.send({
      to: ['ann@example.test', 'gone@example.test'],
      subject: 'partial',
      text: 'x',
    });
    expect(receipt.accepted).toEqual(['ann@example.test']);
    expect(receipt.rejected).toEqual(['gone@example.test']);
    expect(sink.received.map((m) => m.to)).toEqual([['ann@example.test']]);
  });

  it('retries a transient 451 and then delivers, with the same Message-ID', async () => {
    sink.fail('data', 451, '4.3.0 try again later', 1);
    const sender = await senderFor(sink.url);
    const retries = countRetries(sender);
    const receipt = await sender.send({ to: 'ann@example.test', subject: 'retry me', text: 'x' });
    expect(sink.failuresSent).toBe(1);
    expect(retries.count).toBe(1);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.raw).toContain(`Message-ID: ${receipt.messageId}`);
  });

  it('gives up on a persistent 451 after 1 + retries attempts with MailTransientError', async () => {
    sink.fail('data', 451, '4.3.0 try again later');
    const sender = await senderFor(sink.url);
    const error = await failure(sender.send({ to: 'ann@example.test', subject: 's', text: 'x' }));
    expect(error).toBeInstanceOf(MailTransientError);
    expect(error).toMatchObject({ responseCode: 451, attempts: 3, retryable: true });
    expect(error.message).toContain('answered 451');
    expect(error.message).toContain('after 3 attempts');
    expect(sink.failuresSent).toBe(3);
  });

  it('retries a refused connection, then fails with a MailTransientError naming the server', async () => {
    const down = await SmtpSink.start();
    await down.stop();
    const sender = await senderFor(down.url);
    const retries = countRetries(sender);
    const error = await failure(sender.send({ to: 'ann@example.test', subject: 's', text: 'x' }));
    expect(error).toBeInstanceOf(MailTransientError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', attempts: 3 });
    expect(error.message).toContain(`mail: smtp://127.0.0.1:${down.port} failed: ECONNREFUSED`);
    expect(error.message).toContain('after 3 attempts');
    expect(retries.count).toBe(2);
  });

  it('retries a server that accepts connections but never greets, then fails with ETIMEDOUT', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const { port } = silent.address() as AddressInfo;
      const sender = await senderFor(`smtp://127.0.0.1:${port}`, { greetingTimeoutMs: 100 });
      const retries = countRetries(sender);
      const error = await failure(sender.send({ to: 'ann@example.test', subject: 's', text: 'x' }));
      expect(error).toBeInstanceOf(MailTransientError);
      expect(error).toMatchObject({ code: 'ETIMEDOUT', attempts: 3 });
      expect(retries.count).toBe(2);
      expect(sockets).toHaveLength(3);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('opens the breaker after N failed sends, then fails fast without connecting', async () => {
    const down = await SmtpSink.start();
    await down.stop();
    const sender = await senderFor(down.url, {
      retry: false,
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
    });
    const send = () => sender.send({ to: 'ann@example.test', subject: 's', text: 'x' });
    expect(await failure(send())).toBeInstanceOf(MailTransientError);
    expect(sender.circuitState).toBe('closed');
    expect(await failure(send())).toBeInstanceOf(MailTransientError);
    expect(sender.circuitState).toBe('open');
    await down.restart();
    try {
      const error = await failure(send());
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(error.message).toContain('mail: circuit open');
      expect(down.connections).toBe(0);
    } finally {
      await down.stop();
    }
  });

  it('does not count permanent rejections of a message against the breaker', async () => {
    sink.fail('rcpt', 550, '5.1.1 no such user');
    const sender = await senderFor(sink.url, {
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
    });
    const send = () => sender.send({ to: 'nobody@example.test', subject: 's', text: 'x' });
    const errors = [await failure(send()), await failure(send()), await failure(send())];
    expect(errors.map((e) => e.name)).toEqual([
      'MailDeliveryError',
      'MailDeliveryError',
      'MailDeliveryError',
    ]);
    expect(sender.circuitState).toBe('closed');
  });

  it('refuses to send in plain text when requireTls is set and the server offers no STARTTLS', async () => {
    const sender = await senderFor(sink.url, { requireTls: true });
    const retries = countRetries(sender);
    const error = await failure(sender.send({ to: 'ann@example.test', subject: 's', text: 'x' }));
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect(retries.count).toBe(0);
    expect(sink.received).toEqual([]);
  });

  it('stops taking messages once closed', async () => {
    const sender = await senderFor(sink.url);
    await sender.send({ to: 'ann@example.test', subject: 'before', text: 'x' });
    await sender.close();
    const error = await failure(
      sender.send({ to: 'ann@example.test', subject: 'after', text: 'x' }),
    );
    expect(error).toBeInstanceOf(MailTransientError);
    expect(error).toMatchObject({ code: 'ESHUTDOWN' });
    expect(sink.received).toHaveLength(1);
  });
});

describe('SmtpMailSender with AUTH', () => {
  let secured: SmtpSink;

  beforeAll(async () => {
    secured = await SmtpSink.start({ auth: { user: 'mailer', pass: PASSWORD } });
  });

  afterAll(async () => {
    await secured.stop();
  });

  it('authenticates with the credentials of the URL (percent-decoded)', async () => {
    const sender = await senderFor(withCredentials(secured.url, 'mailer', PASSWORD));
    await sender.send({ to: 'ann@example.test', subject: 'authed', text: 'x' });
    expect(secured.received.at(-1)?.user).toBe('mailer');
    expect(sender.server).toBe(`smtp://mailer:***@127.0.0.1:${secured.port}`);
  });

  it('fails a wrong password with MailDeliveryError 535, not retried, the password nowhere in the error', async () => {
    const wrong = 'Wr0ng-S3cr3t-value';
    const sender = await senderFor(withCredentials(secured.url, 'mailer', wrong));
    const retries = countRetries(sender);
    const error = await failure(sender.send({ to: 'ann@example.test', subject: 's', text: 'x' }));
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect(error).toMatchObject({ responseCode: 535, code: 'EAUTH', countsAsFailure: true });
    expect(error.message).toContain(`smtp://mailer:***@127.0.0.1:${secured.port}`);
    expect(retries.count).toBe(0);
    const everything = [
      error.message,
      error.stack,
      inspect(error, { depth: 10, showHidden: true }),
      JSON.stringify(error),
      inspect(sender, { depth: 5 }),
      JSON.stringify(sender.options),
    ].join('\n');
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(encodeURIComponent(wrong));
  });

  it('verify() fails on bad credentials without showing them, and passes on good ones', async () => {
    const bad = await senderFor(withCredentials(secured.url, 'mailer', 'N0pe-N0pe-N0pe'));
    const good = await senderFor(withCredentials(secured.url, 'mailer', PASSWORD));
    const error = await failure(bad.verify());
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect(error.message).not.toContain('N0pe-N0pe-N0pe');
    await expect(good.verify()).resolves.toBeUndefined();
  });
});
