import { MonitoringModule } from '@infrastructure/monitoring';
import { createTestApp, testMonitoringOptions, type TestApp } from '@infrastructure/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MailTransientError } from '../src/errors.js';
import { MailModule } from '../src/mail.module.js';
import { MailSender } from '../src/mail-sender.js';
import { MemoryMailSender } from '../src/senders/memory-mail.sender.js';
import { SmtpMailSender } from '../src/senders/smtp-mail.sender.js';
import { SmtpSink } from './smtp-sink.js';

const PASSWORD = 'm0dule-S3cr3t';
let sink: SmtpSink;
let t: TestApp;
const lines: string[] = [];

beforeAll(async () => {
  sink = await SmtpSink.start({ auth: { user: 'mailer', pass: PASSWORD } });
  t = await createTestApp({
    imports: [
      MonitoringModule.forRoot(
        testMonitoringOptions({
          logging: { level: 'debug', destination: { write: (l: string) => void lines.push(l) } },
        }),
      ),
      MailModule.forRootAsync({
        useFactory: () => ({
          url: `smtp://mailer:${encodeURIComponent(PASSWORD)}@127.0.0.1:${sink.port}`,
          from: 'no-reply@shop.test',
          retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 2 },
          healthCacheMs: 0,
        }),
      }),
    ],
  });
});

afterAll(async () => {
  await t?.close();
  await sink.stop();
});

beforeEach(() => sink.reset());

async function metrics(app: TestApp): Promise<string> {
  return (await app.request.get('/metrics').expect(200)).text;
}

describe('MailModule with MonitoringModule and SMTP', () => {
  it('injects the SMTP sender as MailSender and delivers through it', async () => {
    const sender = t.app.get(MailSender);
    expect(sender).toBeInstanceOf(SmtpMailSender);
    const received = sink.nextMail();
    await sender.send({ to: 'ann@example.test', subject: 'via module', text: 'hello' });
    const mail = await received;
    expect(mail.user).toBe('mailer');
    expect(mail.raw).toContain('Subject: via module');
    expect(mail.raw).toContain('From: no-reply@shop.test');
  });

  it('counts sends by outcome, with durations and the breaker state', async () => {
    const sender = t.app.get(MailSender);
    const before = await metrics(t);
    expect(before).toContain('mail_sent_total{transport="smtp",outcome="rejected"} 0');
    expect(before).toContain('circuit_breaker_state{client="mail"} 0');
    sink.fail('rcpt', 550, '5.1.1 no such user', 1);
    await expect(
      sender.send({ to: 'nobody@example.test', subject: 's', text: 'x' }),
    ).rejects.toMatchObject({ name: 'MailDeliveryError', responseCode: 550 });
    await sender.send({ to: 'ann@example.test', subject: 's', text: 'x' });
    const text = await metrics(t);
    expect(text).toContain('mail_sent_total{transport="smtp",outcome="rejected"} 1');
    expect(text).toMatch(/mail_sent_total\{transport="smtp",outcome="success"\} [1-9]/);
    expect(text).toMatch(/mail_send_duration_seconds_count\{transport="smtp"\} [2-9]/);
  });

  it('reports `mail` up in readiness after an SMTP verify, the server shown without password', async () => {
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details.mail).toMatchObject({
      status: 'up',
      circuit: 'closed',
      server: `smtp://mailer:***@127.0.0.1:${sink.port}`,
    });
    expect(sink.connections).toBe(1);
  });

  it('logs retries at debug without the password', async () => {
    sink.fail('data', 451, '4.3.0 try later', 1);
    await t.app.get(MailSender).send({ to: 'ann@example.test', subject: 'retry', text: 'x' });
    const logs = lines.join('\n');
    expect(logs).toContain('mail: attempt 1 failed, retrying');
    expect(logs).toContain('answered 451 to DATA');
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('shows an unreachable server as degraded (non-critical): readiness stays 200', async () => {
    await sink.stop();
    try {
      const ready = await t.request.get('/health/ready').expect(200);
      expect(ready.body.details.mail).toMatchObject({ status: 'degraded', critical: false });
      expect(ready.body.details.mail.reason).toContain('ECONNREFUSED');
      expect(JSON.stringify(ready.body)).not.toContain(PASSWORD);
    } finally {
      await sink.restart();
    }
  });

  it('closes the pool at shutdown: later sends fail with ESHUTDOWN', async () => {
    const app = await createTestApp({
      imports: [MailModule.forRoot({ url: sink.url.replace('//', `//mailer:${PASSWORD}@`) })],
    });
    const sender = app.app.get(MailSender);
    await sender.send({ from: 'a@shop.test', to: 'ann@example.test', subject: 's', text: 'x' });
    await app.close();
    await expect(
      sender.send({ from: 'a@shop.test', to: 'ann@example.test', subject: 's', text: 'x' }),
    ).rejects.toBeInstanceOf(MailTransientError);
    expect(sink.received).toHaveLength(1);
  });
});

describe('MailModule with the memory transport', () => {
  it('provides a MemoryMailSender, counts its sends and registers no health check', async () => {
    const app = await createTestApp({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        MailModule.forRoot({ transport: 'memory', from: 'no-reply@shop.test' }),
      ],
    });
    try {
      const mails = app.app.get(MailSender) as MemoryMailSender;
      expect(mails).toBeInstanceOf(MemoryMailSender);
      const next = mails.next();
      await mails.send({ to: 'ann@example.test', subject: 'memory', text: 'x' });
      expect((await next).message.from).toBe('no-reply@shop.test');
      expect(await metrics(app)).toContain(
        'mail_sent_total{transport="memory",outcome="success"} 1',
      );
      const ready = await app.request.get('/health/ready').expect(200);
      expect(ready.body.details.mail).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});
