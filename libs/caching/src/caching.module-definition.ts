import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CachingExtras, CachingOptions } from './caching.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: CACHING_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CachingOptions>({ moduleName: 'Caching' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCachingOptions')
  .setExtras<CachingExtras>({ isGlobal: true }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
