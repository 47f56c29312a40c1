import { ConfigurableModuleBuilder } from '@nestjs/common';
import type {
  ConfigurationModuleExtras,
  ConfigurationModuleOptions,
} from './configuration.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: CONFIGURATION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ConfigurationModuleOptions>({ moduleName: 'Configuration' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createConfigurationOptions')
  .setExtras<ConfigurationModuleExtras>({ isGlobal: true, definitions: [] }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
