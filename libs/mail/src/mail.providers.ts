import { HealthRegistry, MetricsService } from '@infrastructure/monitoring';
import type { Provider } from '@nestjs/common';
import { MAIL_OPTIONS } from './mail.constants.js';
import { MailHealth } from './mail.indicator.js';
import { MAIL_MODULE_OPTIONS } from './mail.module-definition.js';
import { MailSender } from './mail-sender.js';
import { MailMetrics } from './mail.metrics.js';
import { resolveMailOptions, type MailOptions, type ResolvedMailOptions } from './mail.options.js';
import { LogMailSender } from './senders/log-mail.sender.js';
import { MemoryMailSender } from './senders/memory-mail.sender.js';
import { SmtpMailSender } from './senders/smtp-mail.sender.js';

/**
 * The adapter `options.transport` names, with metrics when a `MetricsService` is given. SMTP
 * loads nodemailer lazily (the memory and log transports never load it).
 */
export async function createMailSender(
  options: ResolvedMailOptions,
  metrics?: MetricsService,
): Promise<MailSender> {
  const m = metrics ? new MailMetrics(options.transport, metrics) : undefined;
  switch (options.transport) {
    case 'smtp':
      return SmtpMailSender.create(options.smtp!, options.from, m);
    case 'memory':
      return new MemoryMailSender({ from: options.from }, m);
    case 'log':
      return new LogMailSender({ from: options.from, logBodies: options.logBodies }, m);
  }
}

/** Validated options with defaults (a bad option fails the boot here, naming its key). */
export function mailOptionsProvider(): Provider {
  return {
    provide: MAIL_OPTIONS,
    useFactory: (o: MailOptions) => resolveMailOptions(o),
    inject: [MAIL_MODULE_OPTIONS],
  };
}

/** `MailSender`: the configured adapter (its pool closes at shutdown). */
export function mailSenderProvider(): Provider {
  return {
    provide: MailSender,
    useFactory: (o: ResolvedMailOptions, metrics?: MetricsService) => createMailSender(o, metrics),
    inject: [MAIL_OPTIONS, { token: MetricsService, optional: true }],
  };
}

/** Registers the `mail` health check when MonitoringModule is there and the sender is SMTP. */
export function mailHealthProvider(): Provider {
  return {
    provide: MailHealth,
    useFactory: (sender: MailSender, registry?: HealthRegistry) => new MailHealth(sender, registry),
    inject: [MailSender, { token: HealthRegistry, optional: true }],
  };
}
