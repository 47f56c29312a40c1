import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { MAIL_OPTIONS } from './mail.constants.js';
import { MailModule } from './mail.module.js';
import type { MailOptions, ResolvedMailOptions } from './mail.options.js';
import { MailSender } from './mail-sender.js';
import { LogMailSender } from './senders/log-mail.sender.js';
import { MemoryMailSender } from './senders/memory-mail.sender.js';
import { SmtpMailSender } from './senders/smtp-mail.sender.js';
import { bootTestingModule } from '@infrastructure/testing';

const boot = (imports: unknown[], providers: unknown[] = []) =>
  bootTestingModule({ imports: imports as never, providers: providers as never });

const options: MailOptions = { transport: 'memory', from: 'no-reply@shop.test' };

@Injectable()
class Notifier {
  constructor(readonly mail: MailSender) {}
}

@Injectable()
class OptionsFactory {
  createMailOptions(): MailOptions {
    return options;
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

describe('MailModule', () => {
  it('forRoot() provides the configured MailSender to domain code', async () => {
    const app = await boot([MailModule.forRoot(options)], [Notifier]);
    const notifier = app.get(Notifier);
    expect(notifier.mail).toBeInstanceOf(MemoryMailSender);
    await notifier.mail.send({ to: 'ann@example.test', subject: 'hi', text: 'x' });
    expect((notifier.mail as MemoryMailSender).last?.message.from).toBe('no-reply@shop.test');
    await app.close();
  });

  it.each([
    ['useFactory', { useFactory: () => options }],
    ['useClass', { useClass: OptionsFactory }],
    ['useExisting', { imports: [OptionsModule], useExisting: OptionsFactory }],
  ])('forRootAsync with %s', async (_name, async) => {
    const app = await boot([MailModule.forRootAsync(async as never)], [Notifier]);
    expect(app.get<ResolvedMailOptions>(MAIL_OPTIONS).transport).toBe('memory');
    expect(app.get(Notifier).mail).toBeInstanceOf(MemoryMailSender);
    await app.close();
  });

  it('builds the log and SMTP senders (SMTP connects on the first send only)', async () => {
    const log = await boot([MailModule.forRoot({ transport: 'log' })]);
    expect(log.get(MailSender)).toBeInstanceOf(LogMailSender);
    await log.close();
    const smtp = await boot([MailModule.forRoot({ url: 'smtp://u:p@127.0.0.1:9' })]);
    const sender = smtp.get(MailSender) as SmtpMailSender;
    expect(sender).toBeInstanceOf(SmtpMailSender);
    expect(sender.server).toBe('smtp://u:***@127.0.0.1:9');
    await smtp.close();
  });

  it.each([
    [{}, 'MailModule: options.url: no SMTP server configured'],
    [{ url: 'smtp://h', maxConnections: -1 }, 'MailModule: options.maxConnections:'],
  ])('fails the boot on bad options %j, naming the key', async (bad, message) => {
    await expect(boot([MailModule.forRoot(bad as MailOptions)])).rejects.toThrow(message);
  });

  it('lets tests replace the adapter with overrideProvider', async () => {
    const fake = new MemoryMailSender();
    const moduleRef = await Test.createTestingModule({
      imports: [MailModule.forRoot({ url: 'smtp://127.0.0.1:9' })],
      providers: [Notifier],
    })
      .overrideProvider(MailSender)
      .useValue(fake)
      .compile();
    const app = await moduleRef.init();
    expect(app.get(Notifier).mail).toBe(fake);
    await app.close();
  });
});
