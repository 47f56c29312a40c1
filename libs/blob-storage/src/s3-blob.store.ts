import type * as S3 from '@aws-sdk/client-s3';
import { loadDriver } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';
import { inspect } from 'node:util';
import { addAbortSignal, type Readable } from 'node:stream';
import { ResiliencePolicy, createPolicy, type CircuitStateName } from '@infrastructure/http-client';
import { bytesOf, contentTypeOf } from './blob-body.js';
import {
  assertValidBlobKey,
  assertValidBlobMetadata,
  assertValidBlobPrefix,
  blobListLimit,
} from './blob-key.js';
import {
  BlobStore,
  type BlobBody,
  type BlobInfo,
  type BlobListOptions,
  type BlobListPage,
  type BlobObject,
  type BlobPutOptions,
  type BlobPutResult,
  type BlobStream,
  type SignedUrlOptions,
} from './blob-store.js';
import { BlobNotFoundError, BlobStoreError } from './blob.errors.js';
import { translateS3Error } from './s3-errors.js';
import {
  resolveS3BlobStoreOptions,
  type ResolvedS3BlobStoreOptions,
  type S3BlobStoreOptions,
} from './s3-blob.options.js';

/** The `@aws-sdk/client-s3` module (an optional peer, loaded on first use). */
type S3Sdk = typeof S3;

/** How `S3BlobStore.create` loads the SDK; tests pass an importer that fails. */
export interface S3BlobStoreDeps {
  /** `import()` replacement (see `loadDriver`). @default (p) => import(p) */
  importer?: (pkg: string) => Promise<unknown>;
}

/** The part of the SDK's SigV4 signer we use (`SignatureV4MultiRegion.presign`). */
interface Presigner {
  presign(
    request: {
      method: string;
      protocol: string;
      hostname: string;
      port?: number;
      path: string;
      query: Record<string, string>;
      headers: Record<string, string>;
    },
    options: { expiresIn: number; signingRegion: string; signingService: string },
  ): Promise<{ protocol: string; path: string; query?: Record<string, string | string[] | null> }>;
}

const MAX_PARTS = 10_000;
const MAX_SIGNED_URL_SECONDS = 604_800;

function stripQuotes(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** Splits a stream into parts of exactly `size` bytes (the last one shorter, maybe empty). */
async function* partsOf(source: AsyncIterable<unknown>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string | Uint8Array);
    while (pendingBytes + buf.length >= size) {
      const take = size - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending, size);
      pending = [];
      pendingBytes = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      pending.push(buf);
      pendingBytes += buf.length;
    }
  }
  yield Buffer.concat(pending, pendingBytes);
}

async function* slicesOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    yield bytes.subarray(offset, offset + size);
  }
}

/** RFC 3986 encoding of one path segment (what SigV4 and S3 expect). */
function encodeRfc3986(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Objects in an S3 bucket (AWS or an S3-compatible server) through `@aws-sdk/client-s3`, an
 * optional peer loaded by {@link S3BlobStore.create}: without it you get `MissingDependencyError`
 * with the `npm install` line.
 *
 * Every call runs through one resilience pipeline (`createPolicy`: bulkhead → breaker → retry →
 * per-attempt timeout). The SDK's own retry is off (`maxAttempts: 1`) so retries are not
 * multiplied (SDK 3 × ours 3 = 9 calls), every attempt is bounded by our timeout, and the breaker,
 * bulkhead and metrics see each call once, as for every other adapter. Bodies larger than
 * `partSizeBytes` and streams go up as multipart uploads, one part in memory at a time.
 */
export class S3BlobStore extends BlobStore {
  readonly kind = 's3';
  /** The pipeline of every call (its breaker state shows in health and metrics). */
  readonly policy: ResiliencePolicy;
  private readonly client: S3.S3Client;
  private readonly o: Omit<ResolvedS3BlobStoreOptions, 'credentials'>;
  private readonly logger = getLogger('BlobStore');
  private readonly unsubscribe: () => void;

  /** Validates options, loads the SDK and builds the store (no network call: see {@link init}). */
  static async create(
    options: S3BlobStoreOptions,
    deps: S3BlobStoreDeps = {},
  ): Promise<S3BlobStore> {
    const resolved = resolveS3BlobStoreOptions(options);
    const sdk = await loadDriver<S3Sdk>('@aws-sdk/client-s3', 'S3BlobStore', deps.importer);
    return new S3BlobStore(resolved, sdk);
  }

  /** Use {@link S3BlobStore.create}. Private: its declaration would name the optional SDK's types. */
  private constructor(
    options: ResolvedS3BlobStoreOptions,
    private readonly sdk: S3Sdk,
  ) {
    super();
    const { credentials, ...rest } = options;
    this.o = rest; // credentials live in the SDK client only
    this.policy = createPolicy({ ...options.resilience, name: `blob:s3:${options.bucket}` });
    const where = { store: 's3', bucket: options.bucket };
    this.unsubscribe = this.policy.subscribe({
      onRetry: ({ attempt, delayMs, error }) =>
        this.logger.debug(
          { ...where, attempt, delayMs, code: (error as { code?: string } | undefined)?.code },
          `s3 blob store: retrying after ${(error as Error | undefined)?.message ?? 'a failure'}`,
        ),
      onCircuitStateChange: (circuit) => {
        if (circuit === 'open') {
          this.logger.warn(
            { ...where, circuit },
            `s3 blob store ${options.bucket}: circuit open, calls fail fast until a probe succeeds`,
          );
        } else {
          this.logger.info(
            { ...where, circuit },
            `s3 blob store ${options.bucket}: circuit ${circuit}`,
          );
        }
      },
    });
    const checksums = options.checksums === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
    this.client = new sdk.S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      // A copy: the SDK writes into credential objects (`$source`), and they are the caller's.
      credentials: credentials && {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
      // We own the retry (see the class comment): one SDK attempt per pipeline attempt.
      maxAttempts: 1,
      requestChecksumCalculation: checksums,
      responseChecksumValidation: checksums,
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs,
        socketTimeout: options.socketTimeoutMs,
      },
    });
  }

  /** Bucket, region, endpoint and prefix: safe to log (no credentials). */
  describe(): Record<string, unknown> {
    return {
      kind: this.kind,
      bucket: this.o.bucket,
      region: this.o.region,
      endpoint: this.o.endpoint,
      prefix: this.o.prefix,
    };
  }

  toJSON(): Record<string, unknown> {
    return this.describe();
  }

  [inspect.custom](): string {
    return `S3BlobStore ${inspect(this.describe())}`;
  }

  /** The breaker's state. */
  get circuitState(): CircuitStateName {
    return this.policy.circuitState;
  }

  /** Creates the bucket when `createBucketIfMissing` is set and it does not exist; else nothing. */
  async init(): Promise<this> {
    if (!this.o.createBucketIfMissing) return this;
    const Bucket = this.o.bucket;
    const exists = await this.call('init', undefined, (signal) =>
      this.send(new this.sdk.HeadBucketCommand({ Bucket }), signal).then(
        () => true,
        (error: unknown) => {
          if ((error as S3.S3ServiceException).$metadata?.httpStatusCode === 404) return false;
          throw error;
        },
      ),
    );
    if (exists) return this;
    await this.call('init', undefined, (signal) =>
      this.send(
        new this.sdk.CreateBucketCommand({
          Bucket,
          CreateBucketConfiguration:
            this.o.region === 'us-east-1'
              ? undefined
              : { LocationConstraint: this.o.region as never },
        }),
        signal,
      ).catch((error: unknown) => {
        // Created meanwhile by another instance: fine.
        if ((error as Error).name === 'BucketAlreadyOwnedByYou') return undefined;
        throw error;
      }),
    );
    return this;
  }

  async put(key: string, body: BlobBody, options: BlobPutOptions = {}): Promise<BlobPutResult> {
    assertValidBlobKey(key);
    assertValidBlobMetadata(options.metadata);
    const contentType = contentTypeOf(options.contentType);
    const metadata = { ...options.metadata };
    const partSize = this.o.partSizeBytes;
    const bytes = bytesOf(body);
    if (bytes && bytes.length <= partSize) {
      return this.putOnce(key, bytes, contentType, metadata, options.signal);
    }
    const parts = bytes ? slicesOf(bytes, partSize) : partsOf(body as Readable, partSize);
    try {
      const first = await parts.next();
      const firstPart = first.done ? Buffer.alloc(0) : first.value;
      if (firstPart.length < partSize) {
        return await this.putOnce(key, firstPart, contentType, metadata, options.signal);
      }
      return await this.putMultipart(key, firstPart, parts, contentType, metadata, options.signal);
    } finally {
      await parts.return(undefined); // destroys an unfinished source stream
    }
  }

  async get(key: string, options: { signal?: AbortSignal } = {}): Promise<BlobObject> {
    assertValidBlobKey(key);
    return this.call(
      'get',
      key,
      async (signal) => {
        const out = await this.send<S3.GetObjectCommandOutput>(
          new this.sdk.GetObjectCommand({ Bucket: this.o.bucket, Key: this.fullKey(key) }),
          signal,
        );
        // Read inside the attempt: a connection reset mid-body is retried like any other.
        const body = Buffer.from(await out.Body!.transformToByteArray());
        return { ...this.infoOf(key, out), size: body.length, body };
      },
      options.signal,
    );
  }

  async getStream(key: string, options: { signal?: AbortSignal } = {}): Promise<BlobStream> {
    assertValidBlobKey(key);
    const out = await this.call(
      'getStream',
      key,
      (signal) =>
        this.send<S3.GetObjectCommandOutput>(
          new this.sdk.GetObjectCommand({ Bucket: this.o.bucket, Key: this.fullKey(key) }),
          signal,
          { detachOnResponse: true },
        ),
      options.signal,
    );
    const body = out.Body as unknown as Readable;
    if (options.signal) addAbortSignal(options.signal, body);
    return { ...this.infoOf(key, out), body };
  }

  async head(key: string, options: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    assertValidBlobKey(key);
    const out = await this.call(
      'head',
      key,
      (signal) =>
        this.send<S3.HeadObjectCommandOutput>(
          new this.sdk.HeadObjectCommand({ Bucket: this.o.bucket, Key: this.fullKey(key) }),
          signal,
        ),
      options.signal,
    );
    return this.infoOf(key, out);
  }

  async exists(key: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    try {
      await this.head(key, options);
      return true;
    } catch (error) {
      if (error instanceof BlobNotFoundError) return false;
      throw error;
    }
  }

  async delete(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    assertValidBlobKey(key);
    await this.call(
      'delete',
      key,
      (signal) =>
        this.send(
          new this.sdk.DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.fullKey(key) }),
          signal,
        ),
      options.signal,
    );
  }

  async list(
    prefix: string,
    options: BlobListOptions & { signal?: AbortSignal } = {},
  ): Promise<BlobListPage> {
    assertValidBlobPrefix(prefix);
    const limit = blobListLimit(options.limit);
    const out = await this.call(
      'list',
      undefined,
      (signal) =>
        this.send<S3.ListObjectsV2CommandOutput>(
          new this.sdk.ListObjectsV2Command({
            Bucket: this.o.bucket,
            Prefix: this.fullKey(prefix),
            MaxKeys: limit,
            ContinuationToken: options.cursor,
          }),
          signal,
        ),
      options.signal,
    );
    const strip = this.o.prefix.length;
    return {
      items: (out.Contents ?? []).map((o) => ({
        key: (o.Key ?? '').slice(strip),
        size: o.Size ?? 0,
        etag: stripQuotes(o.ETag),
        lastModified: o.LastModified ?? new Date(0),
      })),
      cursor: out.IsTruncated ? out.NextContinuationToken : undefined,
    };
  }

  /** A presigned GET URL (SigV4, query string), valid `expiresInSeconds` (default 900, max 7 days). */
  override async signedUrl(key: string, options: SignedUrlOptions = {}): Promise<string> {
    assertValidBlobKey(key);
    const expiresIn = options.expiresInSeconds ?? 900;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_SIGNED_URL_SECONDS) {
      throw new RangeError(
        `expiresInSeconds must be an integer 1-${MAX_SIGNED_URL_SECONDS}, got ${expiresIn}`,
      );
    }
    const base = this.o.endpoint
      ? new URL(this.o.endpoint)
      : new URL(`https://s3.${this.o.region}.amazonaws.com`);
    const objectPath = this.fullKey(key).split('/').map(encodeRfc3986).join('/');
    const basePath = base.pathname.replace(/\/+$/, '');
    const hostname = this.o.forcePathStyle ? base.hostname : `${this.o.bucket}.${base.hostname}`;
    const path = this.o.forcePathStyle
      ? `${basePath}/${this.o.bucket}/${objectPath}`
      : `${basePath}/${objectPath}`;
    const port = base.port ? Number(base.port) : undefined;
    const signer = (await this.client.config.signer()) as unknown as Presigner;
    const signed = await signer.presign(
      {
        method: 'GET',
        protocol: base.protocol,
        hostname,
        port,
        path,
        query: {},
        headers: {
          host: port === undefined ? hostname : `${hostname}:${port}`,
          // S3 presigned URLs never sign a body.
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      },
      { expiresIn, signingRegion: this.o.region, signingService: 's3' },
    );
    const url = new URL(`${signed.protocol}//${hostname}${port === undefined ? '' : `:${port}`}`);
    const query = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(String(v))}`)
      .join('&');
    return `${url.origin}${signed.path}?${query}`;
  }

  /** HeadBucket, one attempt, outside the pipeline (a health probe must not be retried or queued). */
  async ping(signal?: AbortSignal): Promise<Record<string, unknown>> {
    try {
      await this.send(new this.sdk.HeadBucketCommand({ Bucket: this.o.bucket }), signal);
    } catch (error) {
      throw translateS3Error(error, 'ping');
    }
    return { circuit: this.policy.circuitState };
  }

  override async close(): Promise<void> {
    this.unsubscribe();
    this.client.destroy();
  }

  // --- internals ---

  private fullKey(key: string): string {
    return `${this.o.prefix}${key}`;
  }

  private infoOf(
    key: string,
    out: {
      ContentLength?: number;
      ContentType?: string;
      Metadata?: Record<string, string>;
      ETag?: string;
      LastModified?: Date;
    },
  ): BlobInfo {
    return {
      key,
      size: out.ContentLength ?? 0,
      contentType: out.ContentType ?? 'application/octet-stream',
      metadata: { ...out.Metadata },
      etag: stripQuotes(out.ETag),
      lastModified: out.LastModified ?? new Date(0),
    };
  }

  /** One operation through the pipeline; SDK errors leave translated (`BlobNotFoundError`, `BlobStoreError`). */
  private call<T>(
    operation: string,
    key: string | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
    retry = true,
  ): Promise<T> {
    return this.policy.execute(
      async ({ signal: attemptSignal }) => {
        try {
          return await fn(attemptSignal);
        } catch (error) {
          throw translateS3Error(error, operation, key);
        }
      },
      { signal, retry },
    );
  }

  /**
   * `client.send` with the attempt's signal. With `detachOnResponse` the signal stops counting once
   * the answer's headers are in: the pipeline aborts each attempt's signal when the attempt
   * returns, which would otherwise cut the body of `getStream` the caller is about to read.
   */
  private async send<O>(
    command: { readonly input: unknown },
    signal: AbortSignal | undefined,
    opts: { detachOnResponse?: boolean } = {},
  ): Promise<O> {
    const send = this.client.send.bind(this.client) as (
      c: unknown,
      o: { abortSignal?: AbortSignal },
    ) => Promise<O>;
    if (!opts.detachOnResponse || !signal) return send(command, { abortSignal: signal });
    const own = new AbortController();
    const forward = () => own.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    try {
      return await send(command, { abortSignal: own.signal });
    } finally {
      signal.removeEventListener('abort', forward);
    }
  }

  private async putOnce(
    key: string,
    body: Buffer,
    contentType: string,
    metadata: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<BlobPutResult> {
    const out = await this.call(
      'put',
      key,
      (s) =>
        this.send<S3.PutObjectCommandOutput>(
          new this.sdk.PutObjectCommand({
            Bucket: this.o.bucket,
            Key: this.fullKey(key),
            Body: body,
            ContentLength: body.length,
            ContentType: contentType,
            Metadata: metadata,
          }),
          s,
        ),
      signal,
    );
    return { key, size: body.length, etag: stripQuotes(out.ETag) };
  }

  private async putMultipart(
    key: string,
    firstPart: Buffer,
    rest: AsyncGenerator<Buffer>,
    contentType: string,
    metadata: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<BlobPutResult> {
    const Bucket = this.o.bucket;
    const Key = this.fullKey(key);
    const created = await this.call(
      'put',
      key,
      (s) =>
        this.send<S3.CreateMultipartUploadCommandOutput>(
          new this.sdk.CreateMultipartUploadCommand({
            Bucket,
            Key,
            ContentType: contentType,
            Metadata: metadata,
          }),
          s,
        ),
      signal,
    );
    const UploadId = created.UploadId!;
    try {
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      let size = 0;
      let part: Buffer | undefined = firstPart;
      while (part) {
        const PartNumber = parts.length + 1;
        if (PartNumber > MAX_PARTS) {
          throw new BlobStoreError('s3', 'put', key, undefined, 'TooManyParts', false, false, {
            cause: new Error(`more than ${MAX_PARTS} parts: raise partSizeBytes`),
          });
        }
        const body: Buffer = part;
        const uploaded = await this.call(
          'put',
          key,
          (s) =>
            this.send<S3.UploadPartCommandOutput>(
              new this.sdk.UploadPartCommand({
                Bucket,
                Key,
                UploadId,
                PartNumber,
                Body: body,
                ContentLength: body.length,
              }),
              s,
            ),
          signal,
        );
        parts.push({ PartNumber, ETag: uploaded.ETag ?? '' });
        size += body.length;
        const next = await rest.next();
        // A stream whose length is a multiple of the part size ends with an empty part: skip it.
        part = next.done || next.value.length === 0 ? undefined : next.value;
      }
      const done = await this.call(
        'put',
        key,
        (s) =>
          this.send<S3.CompleteMultipartUploadCommandOutput>(
            new this.sdk.CompleteMultipartUploadCommand({
              Bucket,
              Key,
              UploadId,
              MultipartUpload: { Parts: parts },
            }),
            s,
          ),
        signal,
      );
      return { key, size, etag: stripQuotes(done.ETag) };
    } catch (error) {
      // Best effort: uploaded parts cost storage until aborted (a bucket lifecycle rule is the backstop).
      await this.send(
        new this.sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId }),
        undefined,
      ).catch(() => undefined);
      throw error;
    }
  }
}
