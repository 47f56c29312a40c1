import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { WebhooksExtras, WebhooksOptions } from './webhooks.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: WEBHOOKS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WebhooksOptions>({ moduleName: 'Webhooks' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createWebhooksOptions')
  .setExtras<WebhooksExtras>({ isGlobal: true }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
