import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/core';
import { BlobStorageConfigError } from './blob.errors.js';
import {
  resolveS3BlobStoreOptions,
  s3OptionsSchema,
  type ResolvedS3BlobStoreOptions,
  type S3BlobStoreOptions,
} from './s3-blob.options.js';

/** Options of `BlobStorageModule.forRoot` / the factory of `forRootAsync`. */
export interface BlobStorageOptions {
  /** Which adapter backs `BlobStore`. @default 'fs' */
  driver?: 'fs' | 's3';
  /** File system store. @default { root: 'var/blobs' } (relative to the working directory) */
  fs?: { root?: string };
  /** S3 store; required when `driver` is `'s3'` (`bucket` at least). Needs `@aws-sdk/client-s3`. */
  s3?: S3BlobStoreOptions;
  /** A failing `blob:<driver>` check makes readiness 503 (true) or shows `degraded` with 200 (false). @default false */
  healthCritical?: boolean;
  /** Health probe timeout. @default 2000 */
  healthTimeoutMs?: number;
}

/** Extras known before the options factory runs. */
export interface BlobStorageExtras {
  /** Register globally. @default true */
  isGlobal?: boolean;
}

/** Options with every default applied. */
export type ResolvedBlobStorageOptions = {
  healthCritical: boolean;
  healthTimeoutMs: number;
} & ({ driver: 'fs'; fs: { root: string } } | { driver: 's3'; s3: ResolvedS3BlobStoreOptions });

/** Default root of the file system store. */
export const DEFAULT_BLOB_DIR = 'var/blobs';

const schema = z
  .object({
    driver: z.enum(['fs', 's3'], { error: 'must be "fs" or "s3"' }).optional(),
    fs: z
      .object({
        root: z.string().trim().min(1, { error: 'must be a directory path' }).optional(),
      })
      .strict()
      .optional(),
    s3: s3OptionsSchema.optional(),
    healthCritical: z.boolean().optional(),
    healthTimeoutMs: z.number().int().min(1).max(60_000).optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.driver === 's3' && !o.s3) {
      ctx.addIssue({
        code: 'custom',
        path: ['s3'],
        message: 'is required when driver is "s3" (at least { bucket })',
      });
    }
  });

/** Validates options, naming the bad key (`BlobStorageModule: options.s3.bucket: ...`), and applies defaults. */
export function resolveBlobStorageOptions(
  options: BlobStorageOptions = {},
): ResolvedBlobStorageOptions {
  validateModuleOptions('BlobStorageModule', schema, options, BlobStorageConfigError);
  const common = {
    healthCritical: options.healthCritical ?? false,
    healthTimeoutMs: options.healthTimeoutMs ?? 2000,
  };
  if (options.driver === 's3') {
    return {
      ...common,
      driver: 's3',
      s3: resolveS3BlobStoreOptions(options.s3!, 'BlobStorageModule'),
    };
  }
  return { ...common, driver: 'fs', fs: { root: options.fs?.root ?? DEFAULT_BLOB_DIR } };
}
