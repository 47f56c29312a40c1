import { Injectable, Module } from '@nestjs/common';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_STORAGE_OPTIONS } from './blob-storage.constants.js';
import { BlobStorageModule } from './blob-storage.module.js';
import type { BlobStorageOptions, ResolvedBlobStorageOptions } from './blob-storage.options.js';
import { BlobStore } from './blob-store.js';
import { BlobStorageConfigError } from './blob.errors.js';
import { FileSystemBlobStore } from './fs-blob.store.js';
import { S3BlobStore } from './s3-blob.store.js';
import { bootTestingModule } from '@infrastructure/testing';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blob-module-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const boot = (imports: unknown[], providers: unknown[] = []) =>
  bootTestingModule({ imports: imports as never, providers: providers as never });

@Injectable()
class Attachments {
  constructor(readonly blobs: BlobStore) {}
}

@Injectable()
class OptionsFactory {
  createBlobStorageOptions(): BlobStorageOptions {
    return { driver: 'fs', fs: { root: join(dir, 'factory') } };
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

describe('BlobStorageModule', () => {
  it('forRoot() provides BlobStore (file system by default) to injecting services', async () => {
    const root = join(dir, 'for-root');
    const app = await boot([BlobStorageModule.forRoot({ fs: { root } })], [Attachments]);
    const { blobs } = app.get(Attachments);
    expect(blobs).toBeInstanceOf(FileSystemBlobStore);
    expect((await stat(root)).isDirectory()).toBe(true); // created at boot
    await blobs.put('hello.txt', 'hi');
    expect((await blobs.get('hello.txt')).body.toString()).toBe('hi');
    expect(app.get<ResolvedBlobStorageOptions>(BLOB_STORAGE_OPTIONS)).toMatchObject({
      driver: 'fs',
      fs: { root },
      healthCritical: false,
      healthTimeoutMs: 2000,
    });
    await app.close();
  });

  it.each([
    ['useFactory', { useFactory: () => ({ fs: { root: join(dir, 'factory') } }) }],
    ['useClass', { useClass: OptionsFactory }],
    ['useExisting', { imports: [OptionsModule], useExisting: OptionsFactory }],
  ])('forRootAsync with %s', async (_name, async) => {
    const app = await boot([BlobStorageModule.forRootAsync(async as never)], [Attachments]);
    const store = app.get(Attachments).blobs as FileSystemBlobStore;
    expect(store.root).toBe(join(dir, 'factory'));
    await app.close();
  });

  it('builds the S3 store for driver "s3" (no network call at boot)', async () => {
    const app = await boot([
      BlobStorageModule.forRoot({
        driver: 's3',
        s3: { bucket: 'my-bucket', endpoint: 'http://127.0.0.1:9', forcePathStyle: true },
      }),
    ]);
    expect(app.get(BlobStore)).toBeInstanceOf(S3BlobStore);
    expect((app.get(BlobStore) as S3BlobStore).describe()).toMatchObject({
      bucket: 'my-bucket',
      region: 'us-east-1',
    });
    await app.close();
  });

  it.each([
    [{ driver: 'ftp' }, 'BlobStorageModule: options.driver: must be "fs" or "s3"'],
    [{ driver: 's3' }, 'BlobStorageModule: options.s3: is required when driver is "s3"'],
    [
      { driver: 's3', s3: { bucket: 'UPPER' } },
      'BlobStorageModule: options.s3.bucket: must be a bucket name',
    ],
    [{ driver: 's3', s3: { bucket: 'ok-bucket', region: 'EU WEST' } }, 'options.s3.region'],
    [{ fs: { root: '' } }, 'BlobStorageModule: options.fs.root: must be a directory path'],
    [{ healthTimeoutMs: 0 }, 'options.healthTimeoutMs'],
    [
      { s3: { bucket: 'ok-bucket', resilience: { timeoutMs: 'soon' } } },
      'options.s3.resilience.timeoutMs',
    ],
    [{ dirver: 'fs' }, 'Unrecognized key: "dirver"'],
  ])('fails the boot on %j, naming the key', async (options, message) => {
    const err = await boot([BlobStorageModule.forRoot(options as never)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobStorageConfigError);
    expect((err as Error).message).toContain(message);
  });

  it('never echoes a credential in a boot error', async () => {
    const secret = 'wJalrXUtnFEMI-do-not-print';
    const err = await boot([
      BlobStorageModule.forRoot({
        driver: 's3',
        s3: {
          bucket: 'ok-bucket',
          credentials: { accessKeyId: '', secretAccessKey: secret },
        },
      }),
    ]).catch((e: unknown) => e);
    expect((err as Error).message).toContain('options.s3.credentials.accessKeyId');
    expect((err as Error).message).not.toContain(secret);
  });
});
