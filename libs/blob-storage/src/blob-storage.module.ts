import { Module, type DynamicModule } from '@nestjs/common';
import { extendModule } from '@infrastructure/core';
import { BLOB_STORAGE_OPTIONS } from './blob-storage.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './blob-storage.module-definition.js';
import {
  blobLifecycleProvider,
  blobOptionsProvider,
  blobStoreProvider,
} from './blob-storage.providers.js';
import { BlobStore } from './blob-store.js';

function withBlobStorage(module: DynamicModule): DynamicModule {
  return extendModule(module, {
    providers: [blobOptionsProvider(), blobStoreProvider(), blobLifecycleProvider()],
    exports: [BLOB_STORAGE_OPTIONS, BlobStore],
  });
}

/**
 * Object storage: provides the `BlobStore` port backed by the file system (`driver: 'fs'`, the
 * default) or S3 (`driver: 's3'`, needs `@aws-sdk/client-s3`), with
 * `blob_operations_total` / `blob_operation_duration_seconds` metrics and a non-critical
 * `blob:<driver>` readiness check when `MonitoringModule` is there.
 */
@Module({})
export class BlobStorageModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withBlobStorage(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withBlobStorage(super.forRootAsync(options));
  }
}
