import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MessagingOptions } from './messaging.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MESSAGING_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MessagingOptions>({ moduleName: 'Messaging' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMessagingOptions')
  .setExtras<{ isGlobal?: boolean }>({ isGlobal: true }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
