import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/core';
import {
  resilienceSchemaShape,
  withResilienceDefaults,
  type ResilienceOptions,
} from '@infrastructure/http-client';
import { BlobStorageConfigError } from './blob.errors.js';

const MiB = 1024 * 1024;

/** Static credentials; leave unset to use the SDK's default chain (env, profile, IMDS, IRSA...). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of `S3BlobStore`. Durations are milliseconds. */
export interface S3BlobStoreOptions {
  /** Bucket name (3-63 characters). Required. */
  bucket: string;
  /** AWS region (also the signing region of S3-compatible servers). @default 'us-east-1' */
  region?: string;
  /** Endpoint of an S3-compatible server (MinIO, R2, Ceph, s3rver): `http(s)://host[:port]`. @default AWS */
  endpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (most S3-compatible servers need it). @default false */
  forcePathStyle?: boolean;
  /** Static credentials (never logged). @default the SDK's default provider chain */
  credentials?: S3Credentials;
  /** Prepended to every key, e.g. `tenant-a/` (keys and list results do not show it). @default '' */
  prefix?: string;
  /** `init()` creates the bucket when it does not exist (opt-in: production buckets are provisioned). @default false */
  createBucketIfMissing?: boolean;
  /**
   * The resilience pipeline of every S3 call (cockatiel via `createPolicy`). Retries only
   * throttling, 408/RequestTimeout, 5xx except 501, network errors and timeouts; a 404 or 403 never.
   * The SDK's own retries are off (`maxAttempts: 1`): see the README.
   * @default { timeoutMs: 60000, attemptTimeoutMs: 20000, retry: { maxAttempts: 3 }, circuitBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 10000 }, bulkhead: { maxConcurrent: 50, maxQueue: 200 } }
   */
  resilience?: Omit<ResilienceOptions, 'name'>;
  /** TCP/TLS connect timeout. @default 3000 */
  connectTimeoutMs?: number;
  /** A socket idle this long is dropped (also bounds a stalled `getStream` body). @default 30000 */
  socketTimeoutMs?: number;
  /**
   * Bodies larger than this (and streams) go up as a multipart upload in parts of this size, one
   * part in memory at a time, each part retried on its own. S3 needs ≥ 5 MiB; at most 10000 parts.
   * @default 8388608 (8 MiB)
   */
  partSizeBytes?: number;
  /**
   * Flexible checksums (CRC32) of the SDK: `when-supported` (SDK default, integrity on AWS) or
   * `when-required` (for S3-compatible servers that reject the `x-amz-checksum-*` headers).
   * @default 'when-supported'
   */
  checksums?: 'when-supported' | 'when-required';
}

/** {@link S3BlobStoreOptions} with every default applied. */
export interface ResolvedS3BlobStoreOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: S3Credentials;
  prefix: string;
  createBucketIfMissing: boolean;
  resilience: ResilienceOptions;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  partSizeBytes: number;
  checksums: 'when-supported' | 'when-required';
}

/** Resilience defaults of blob stores: longer than HTTP calls (objects can be large). */
export const DEFAULT_BLOB_RESILIENCE: Omit<ResilienceOptions, 'name'> = {
  timeoutMs: 60_000,
  attemptTimeoutMs: 20_000,
  retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 2000 },
  circuitBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 },
  bulkhead: { maxConcurrent: 50, maxQueue: 200 },
};

const positive = z.number().int().min(1).max(2_147_483_647);

/** zod schema of {@link S3BlobStoreOptions}. */
export const s3OptionsSchema = z
  .object({
    bucket: z
      .string({ error: 'must be a bucket name (3-63 characters)' })
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        error: 'must be a bucket name: 3-63 lowercase letters, digits, "." and "-"',
      }),
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, { error: 'must be a region such as "eu-west-1"' })
      .optional(),
    endpoint: z
      .string()
      .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
        error: 'must be an http(s) URL such as "http://localhost:9000"',
      })
      .refine((v) => !URL.canParse(v) || (!new URL(v).username && !new URL(v).password), {
        error: 'must not carry credentials (user:password@): use options.credentials',
      })
      .optional(),
    forcePathStyle: z.boolean().optional(),
    credentials: z
      .object({
        accessKeyId: z.string().min(1, { error: 'must not be empty' }),
        secretAccessKey: z.string().min(1, { error: 'must not be empty' }),
        sessionToken: z.string().min(1).optional(),
      })
      // not strict: the SDK adds bookkeeping keys (`$source`) to credential objects it was given
      .optional(),
    prefix: z
      .string()
      .max(512)
      .refine((p) => p === '' || (!p.startsWith('/') && !p.includes('..') && !p.includes('\\')), {
        error: 'must be a relative key prefix such as "tenant-a/" (no leading "/", "..", "\\")',
      })
      .optional(),
    createBucketIfMissing: z.boolean().optional(),
    resilience: z.object(resilienceSchemaShape).strict().optional(),
    connectTimeoutMs: positive.optional(),
    socketTimeoutMs: positive.optional(),
    partSizeBytes: z
      .number()
      .int()
      .min(5 * MiB, { error: 'must be at least 5 MiB (5242880): S3 refuses smaller parts' })
      .max(5 * 1024 * MiB)
      .optional(),
    checksums: z.enum(['when-supported', 'when-required']).optional(),
  })
  .strict();

/**
 * Validates (a bad option throws `BlobStorageConfigError` naming it, never echoing a credential)
 * and applies defaults.
 */
export function resolveS3BlobStoreOptions(
  options: S3BlobStoreOptions,
  owner = 'S3BlobStore',
): ResolvedS3BlobStoreOptions {
  validateModuleOptions(owner, s3OptionsSchema, options, BlobStorageConfigError);
  return {
    bucket: options.bucket,
    region: options.region ?? 'us-east-1',
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
    prefix: options.prefix ?? '',
    createBucketIfMissing: options.createBucketIfMissing ?? false,
    resilience: withResilienceDefaults(options.resilience, DEFAULT_BLOB_RESILIENCE),
    connectTimeoutMs: options.connectTimeoutMs ?? 3000,
    socketTimeoutMs: options.socketTimeoutMs ?? 30_000,
    partSizeBytes: options.partSizeBytes ?? 8 * MiB,
    checksums: options.checksums ?? 'when-supported',
  };
}
