import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BlobStorageExtras, BlobStorageOptions } from './blob-storage.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: BLOB_STORAGE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BlobStorageOptions>({ moduleName: 'BlobStorage' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createBlobStorageOptions')
  .setExtras<BlobStorageExtras>({ isGlobal: true }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
