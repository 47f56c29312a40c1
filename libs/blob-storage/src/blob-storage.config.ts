import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import { BlobStorageConfigError } from './blob.errors.js';
import { DEFAULT_BLOB_DIR, type BlobStorageOptions } from './blob-storage.options.js';

/**
 * Environment variables of `BlobStorageModule` under the config namespace `blobStorage`
 * (register it with `ConfigurationModule`): `BLOB_DRIVER`, `BLOB_DIR`, `S3_BUCKET`,
 * `S3_ENDPOINT`, `S3_REGION`, `S3_FORCE_PATH_STYLE`, `S3_PREFIX`, `S3_CREATE_BUCKET`, and the
 * secrets `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY` (masked in dumps; `<NAME>_FILE` works too).
 */
export const blobStorageConfig = defineConfig('blobStorage', {
  driver: {
    env: 'BLOB_DRIVER',
    ...cfg.oneOf(['fs', 's3'] as const, 'fs'),
    description:
      'Object storage adapter: fs (a directory) or s3 (AWS S3 or an S3-compatible server).',
  },
  dir: {
    env: 'BLOB_DIR',
    ...cfg.string({ default: DEFAULT_BLOB_DIR, minLength: 1 }),
    description:
      'Directory of the fs object store (created at boot), relative to the working directory or absolute.',
  },
  s3Bucket: {
    env: 'S3_BUCKET',
    ...cfg.string(),
    description: 'S3 bucket of the object store; required when BLOB_DRIVER=s3.',
  },
  s3Endpoint: {
    env: 'S3_ENDPOINT',
    ...cfg.url({ schemes: ['http', 'https'] }),
    description: 'Endpoint of an S3-compatible server (MinIO, R2...); unset for AWS.',
  },
  s3Region: {
    env: 'S3_REGION',
    ...cfg.string({ default: 'us-east-1', minLength: 1 }),
    description: 'S3 region (signing region for S3-compatible servers).',
  },
  s3ForcePathStyle: {
    env: 'S3_FORCE_PATH_STYLE',
    ...cfg.bool(false),
    description: 'Path-style URLs (host/bucket/key); most S3-compatible servers need true.',
  },
  s3Prefix: {
    env: 'S3_PREFIX',
    ...cfg.string({ default: '' }),
    description: 'Prefix prepended to every object key, e.g. "tenant-a/".',
  },
  s3CreateBucket: {
    env: 'S3_CREATE_BUCKET',
    ...cfg.bool(false),
    description:
      'Create the bucket at boot when missing (development; production buckets are provisioned).',
  },
  s3AccessKeyId: {
    env: 'S3_ACCESS_KEY_ID',
    ...cfg.secret(),
    description:
      'S3 access key id; unset: the AWS SDK default chain (env, profile, instance role).',
  },
  s3SecretAccessKey: {
    env: 'S3_SECRET_ACCESS_KEY',
    ...cfg.secret(),
    description: 'S3 secret access key (with S3_ACCESS_KEY_ID).',
  },
});

/**
 * Maps {@link blobStorageConfig} values to module options. Missing pairs fail naming the variable:
 * `BLOB_DRIVER=s3 needs S3_BUCKET`, `S3_ACCESS_KEY_ID is set but S3_SECRET_ACCESS_KEY is not`.
 */
export function blobStorageOptionsFrom(
  config: ConfigOf<typeof blobStorageConfig>,
  extra: Partial<BlobStorageOptions> = {},
): BlobStorageOptions {
  if (config.driver === 'fs') return { ...extra, driver: 'fs', fs: { root: config.dir } };
  if (!config.s3Bucket) {
    throw new BlobStorageConfigError('BLOB_DRIVER=s3 needs S3_BUCKET (the bucket name)');
  }
  if (Boolean(config.s3AccessKeyId) !== Boolean(config.s3SecretAccessKey)) {
    const [set, unset] = config.s3AccessKeyId
      ? ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']
      : ['S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID'];
    throw new BlobStorageConfigError(`${set} is set but ${unset} is not: set both or neither`);
  }
  return {
    ...extra,
    driver: 's3',
    s3: {
      ...extra.s3,
      bucket: config.s3Bucket,
      region: config.s3Region,
      endpoint: config.s3Endpoint,
      forcePathStyle: config.s3ForcePathStyle,
      prefix: config.s3Prefix,
      createBucketIfMissing: config.s3CreateBucket,
      credentials:
        config.s3AccessKeyId && config.s3SecretAccessKey
          ? { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey }
          : undefined,
    },
  };
}
