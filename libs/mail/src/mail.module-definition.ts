import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MailOptions } from './mail.options.js';

/** Extras known before the options factory runs. */
export interface MailExtras {
  /** Register globally. @default true */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MAIL_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MailOptions>({ moduleName: 'Mail' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMailOptions')
  .setExtras<MailExtras>({ isGlobal: true }, (def, extras) => ({ ...def, global: extras.isGlobal }))
  .build();
