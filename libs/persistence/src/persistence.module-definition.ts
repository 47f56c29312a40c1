import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PersistenceExtras, PersistenceOptions } from './persistence.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: PERSISTENCE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PersistenceOptions>({ moduleName: 'Persistence' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createPersistenceOptions')
  .setExtras<PersistenceExtras>({ isGlobal: true, name: 'default' }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
