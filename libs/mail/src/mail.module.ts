import { Module, type DynamicModule } from '@nestjs/common';
import { extendModule } from '@infrastructure/core';
import { MAIL_OPTIONS } from './mail.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './mail.module-definition.js';
import { mailHealthProvider, mailOptionsProvider, mailSenderProvider } from './mail.providers.js';
import { MailSender } from './mail-sender.js';

function withMail(module: DynamicModule): DynamicModule {
  return extendModule(module, {
    providers: [mailOptionsProvider(), mailSenderProvider(), mailHealthProvider()],
    exports: [MAIL_OPTIONS, MailSender],
  });
}

/**
 * Outbound mail behind the `MailSender` port: pooled SMTP (nodemailer) through the http-client
 * lib's resilience pipeline, or the memory / log adapters for tests and development. Options are
 * validated at boot; metrics (`mail_sent_total`) and the `mail` health check need
 * `MonitoringModule`.
 *
 * @example
 * MailModule.forRootAsync({
 *   inject: [mailConfig.KEY, appConfig.KEY],
 *   useFactory: (mail: ConfigOf<typeof mailConfig>, app: ConfigOf<typeof appConfig>) =>
 *     mailOptionsFrom(mail, { environment: app.nodeEnv }),
 * })
 */
@Module({})
export class MailModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withMail(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withMail(super.forRootAsync(options));
  }
}
