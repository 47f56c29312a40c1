import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { IntegrationsExtras, IntegrationsOptions } from './integrations.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: INTEGRATIONS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<IntegrationsOptions>({ moduleName: 'Integrations' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createIntegrationsOptions')
  .setExtras<IntegrationsExtras>({ isGlobal: true, clientNames: [] }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
