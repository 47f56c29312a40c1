import { describe, expect, it } from 'vitest';
import { blobStorageConfig, blobStorageOptionsFrom } from './blob-storage.config.js';
import { BlobStorageConfigError } from './blob.errors.js';

const base = {
  driver: 'fs' as 'fs' | 's3',
  dir: 'var/blobs',
  s3Bucket: undefined as string | undefined,
  s3Endpoint: undefined as string | undefined,
  s3Region: 'us-east-1',
  s3ForcePathStyle: false,
  s3Prefix: '',
  s3CreateBucket: false,
  s3AccessKeyId: undefined as string | undefined,
  s3SecretAccessKey: undefined as string | undefined,
};

describe('blobStorageConfig', () => {
  it('reads BLOB_* and S3_* under the blobStorage namespace, the keys as secrets', () => {
    expect(blobStorageConfig.namespace).toBe('blobStorage');
    const fields = Object.values(blobStorageConfig.fields);
    expect(fields.map((f) => f.env)).toEqual([
      'BLOB_DRIVER',
      'BLOB_DIR',
      'S3_BUCKET',
      'S3_ENDPOINT',
      'S3_REGION',
      'S3_FORCE_PATH_STYLE',
      'S3_PREFIX',
      'S3_CREATE_BUCKET',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
    ]);
    expect(fields.filter((f) => f.secret).map((f) => f.env)).toEqual([
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
    ]);
  });

  it('maps the fs driver to its directory', () => {
    expect(blobStorageOptionsFrom(base)).toEqual({ driver: 'fs', fs: { root: 'var/blobs' } });
  });

  it('maps the s3 driver with static credentials', () => {
    const options = blobStorageOptionsFrom(
      {
        ...base,
        driver: 's3',
        s3Bucket: 'uploads',
        s3Endpoint: 'http://minio:9000',
        s3ForcePathStyle: true,
        s3AccessKeyId: 'id',
        s3SecretAccessKey: 'secret',
      },
      { healthCritical: true, s3: { bucket: 'ignored', partSizeBytes: 16 * 1024 * 1024 } },
    );
    expect(options).toEqual({
      driver: 's3',
      healthCritical: true,
      s3: {
        bucket: 'uploads',
        region: 'us-east-1',
        endpoint: 'http://minio:9000',
        forcePathStyle: true,
        prefix: '',
        createBucketIfMissing: false,
        partSizeBytes: 16 * 1024 * 1024,
        credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      },
    });
  });

  it('leaves credentials to the SDK chain when no key is set', () => {
    const options = blobStorageOptionsFrom({ ...base, driver: 's3', s3Bucket: 'uploads' });
    expect(options.s3?.credentials).toBeUndefined();
  });

  it.each([
    [{ driver: 's3' as const }, 'BLOB_DRIVER=s3 needs S3_BUCKET'],
    [
      { driver: 's3' as const, s3Bucket: 'b', s3AccessKeyId: 'id' },
      'S3_ACCESS_KEY_ID is set but S3_SECRET_ACCESS_KEY is not',
    ],
    [
      { driver: 's3' as const, s3Bucket: 'b', s3SecretAccessKey: 'very-secret' },
      'S3_SECRET_ACCESS_KEY is set but S3_ACCESS_KEY_ID is not',
    ],
  ])('fails naming the variable for %j', (values, message) => {
    const err = (() => {
      try {
        return blobStorageOptionsFrom({ ...base, ...values });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BlobStorageConfigError);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toContain('very-secret');
  });
});
