import { HealthRegistry, MetricsService } from '@infrastructure/monitoring';
import type { OnApplicationShutdown, OnModuleInit, Provider } from '@nestjs/common';
import { BLOB_STORAGE_OPTIONS } from './blob-storage.constants.js';
import { BLOB_STORAGE_MODULE_OPTIONS } from './blob-storage.module-definition.js';
import {
  resolveBlobStorageOptions,
  type BlobStorageOptions,
  type ResolvedBlobStorageOptions,
} from './blob-storage.options.js';
import { registerBlobStoreHealth } from './blob-store.indicator.js';
import { BlobStore } from './blob-store.js';
import { BlobMetrics } from './blob.metrics.js';
import { FileSystemBlobStore } from './fs-blob.store.js';
import { MeteredBlobStore } from './metered-blob.store.js';
import { S3BlobStore } from './s3-blob.store.js';

/** Validated options with defaults (a bad option fails the boot here, naming its key). */
export function blobOptionsProvider(): Provider {
  return {
    provide: BLOB_STORAGE_OPTIONS,
    useFactory: (o: BlobStorageOptions) => resolveBlobStorageOptions(o),
    inject: [BLOB_STORAGE_MODULE_OPTIONS],
  };
}

/** Builds the configured store (S3: loads the optional SDK), with metrics when MonitoringModule is there. */
export async function createBlobStore(
  o: ResolvedBlobStorageOptions,
  metrics?: MetricsService,
): Promise<BlobStore> {
  const store =
    o.driver === 's3'
      ? await (await S3BlobStore.create(o.s3)).init()
      : await new FileSystemBlobStore({ root: o.fs.root }).init();
  return metrics ? new MeteredBlobStore(store, new BlobMetrics(store.kind, metrics)) : store;
}

/** `BlobStore`: the port, backed by the configured adapter. */
export function blobStoreProvider(): Provider {
  return {
    provide: BlobStore,
    useFactory: (o: ResolvedBlobStorageOptions, metrics?: MetricsService) =>
      createBlobStore(o, metrics),
    inject: [BLOB_STORAGE_OPTIONS, { token: MetricsService, optional: true }],
  };
}

/** Registers the health check at init; unregisters and closes the store at shutdown. @internal */
export class BlobStorageLifecycle implements OnModuleInit, OnApplicationShutdown {
  private unregister?: () => void;

  constructor(
    private readonly store: BlobStore,
    private readonly options: ResolvedBlobStorageOptions,
    private readonly registry: HealthRegistry | undefined,
  ) {}

  onModuleInit(): void {
    if (!this.registry) return;
    this.unregister = registerBlobStoreHealth(this.registry, this.store, {
      critical: this.options.healthCritical,
      timeoutMs: this.options.healthTimeoutMs,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.unregister?.();
    await this.store.close();
  }
}

export function blobLifecycleProvider(): Provider {
  return {
    provide: BlobStorageLifecycle,
    useFactory: (store: BlobStore, o: ResolvedBlobStorageOptions, registry?: HealthRegistry) =>
      new BlobStorageLifecycle(store, o, registry),
    inject: [BlobStore, BLOB_STORAGE_OPTIONS, { token: HealthRegistry, optional: true }],
  };
}
