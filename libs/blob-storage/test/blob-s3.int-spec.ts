import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, OperationTimeoutError } from '@infrastructure/http-client';
import { BlobNotFoundError, BlobStoreError } from '../src/blob.errors.js';
import { S3BlobStore } from '../src/s3-blob.store.js';
import type { S3BlobStoreOptions } from '../src/s3-blob.options.js';
import { describeBlobStoreContract, generatedStream, sha256Of } from './blob-contract.js';
import { S3FaultProxy, S3RVER_CREDENTIALS, S3rverProcess } from './s3-server.js';

const MiB = 1024 * 1024;
let s3rver: S3rverProcess;

beforeAll(async () => {
  s3rver = await S3rverProcess.start();
});

afterAll(async () => {
  await s3rver?.close();
});

function bucketName(): string {
  return `blob-${randomUUID().slice(0, 8)}`;
}

async function s3Store(overrides: Partial<S3BlobStoreOptions> = {}): Promise<S3BlobStore> {
  const store = await S3BlobStore.create({
    bucket: bucketName(),
    endpoint: s3rver.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    createBucketIfMissing: true,
    partSizeBytes: 5 * MiB,
    ...overrides,
  });
  return store.init();
}

// The SDK's default flexible checksums (CRC32) stay on: the store only ever sends bodies of known
// length (single PUT or multipart parts), never aws-chunked streams, which s3rver cannot decode.
describeBlobStoreContract(
  's3 (s3rver)',
  async () => {
    const store = await s3Store();
    return { store, cleanup: () => store.close() };
  },
  { bytewiseWithNestedKeys: false, atomicOverwrites: false },
);

describeBlobStoreContract(
  's3 (s3rver) with a key prefix and checksums when required',
  async () => {
    const store = await s3Store({ prefix: 'tenant-a/', checksums: 'when-required' });
    return { store, cleanup: () => store.close() };
  },
  { bytewiseWithNestedKeys: false, atomicOverwrites: false },
);

describe('S3BlobStore against s3rver', () => {
  it('creates the bucket when asked, and a missing bucket is a non-retried NoSuchBucket otherwise', async () => {
    const bucket = bucketName();
    await using proxy = await S3FaultProxy.start(s3rver.endpoint);
    const plain = await s3Store({ bucket, endpoint: proxy.endpoint, createBucketIfMissing: false });
    const err = await plain.put('a.txt', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobStoreError);
    expect(err).toMatchObject({ code: 'NoSuchBucket', status: 404, retryable: false });
    expect(proxy.requests).toHaveLength(1);
    await plain.close();

    const creating = await s3Store({ bucket, endpoint: proxy.endpoint });
    await creating.put('a.txt', 'x');
    expect((await creating.get('a.txt')).body.toString()).toBe('x');
    await creating.init(); // already there: no error
    await creating.close();
  });

  it('hides the prefix: keys and listings are relative, the bucket holds prefix + key', async () => {
    const bucket = bucketName();
    const tenant = await s3Store({ bucket, prefix: 'tenant-b/' });
    const raw = await s3Store({ bucket });
    await tenant.put('docs/x.txt', 'x');
    expect((await tenant.list('')).items.map((i) => i.key)).toEqual(['docs/x.txt']);
    expect((await raw.list('')).items.map((i) => i.key)).toEqual(['tenant-b/docs/x.txt']);
    expect(await raw.exists('docs/x.txt')).toBe(false);
    await Promise.all([tenant.close(), raw.close()]);
  });

  it('gives a presigned GET URL that serves the object', async () => {
    const store = await s3Store();
    await store.put('shared/report 1.txt', 'signed content', { contentType: 'text/plain' });
    const url = await store.signedUrl('shared/report 1.txt', { expiresInSeconds: 60 });
    expect(url).toContain('X-Amz-Signature=');
    expect(url).toContain('X-Amz-Expires=60');
    expect(url).not.toContain(S3RVER_CREDENTIALS.secretAccessKey.toLowerCase() + '=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('signed content');
    await store.close();
  });

  it('never shows credentials when the store is logged or serialised', async () => {
    const secret = `super-secret-${randomUUID()}`;
    const store = await s3Store({
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: secret },
    });
    expect(inspect(store, { depth: 10 })).not.toContain(secret);
    expect(JSON.stringify(store)).not.toContain(secret);
    expect(JSON.stringify(store)).toContain(s3rver.endpoint);
    await store.close();
  });
});

describe('S3BlobStore resilience (fault proxy in front of s3rver)', () => {
  let proxy: S3FaultProxy;
  let store: S3BlobStore;

  beforeAll(async () => {
    proxy = await S3FaultProxy.start(s3rver.endpoint);
    store = await s3Store({
      endpoint: proxy.endpoint,
      resilience: {
        retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
        attemptTimeoutMs: 500,
        circuitBreaker: false,
      },
    });
  });

  afterAll(async () => {
    await store?.close();
    await proxy?.close();
  });

  beforeEach(() => proxy.reset());

  it('retries a 503 and succeeds on the next attempt', async () => {
    proxy.failNext(1, 503, 'ServiceUnavailable');
    await store.put('retry/503.txt', 'after a 503');
    expect(proxy.requests.map((r) => r.injected)).toEqual([503, undefined]);
    expect((await store.get('retry/503.txt')).body.toString()).toBe('after a 503');
  });

  it('retries throttling (503 SlowDown, 429) and 500 on reads too', async () => {
    await store.put('retry/read.txt', 'read me');
    proxy.reset();
    proxy.failNext(1, 503, 'SlowDown').failNext(1, 429, 'TooManyRequestsException');
    expect((await store.get('retry/read.txt')).body.toString()).toBe('read me');
    expect(proxy.requests.map((r) => r.injected)).toEqual([503, 429, undefined]);
    proxy.reset();
    proxy.failNext(1, 500, 'InternalError');
    const { body } = await store.getStream('retry/read.txt');
    expect(await sha256Of(body as AsyncIterable<Buffer>)).toBe(
      await sha256Of([Buffer.from('read me')]),
    );
    expect(proxy.requests).toHaveLength(2);
  });

  it('never retries a 404: one request, BlobNotFoundError', async () => {
    await expect(store.get('retry/absent.txt')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(proxy.requests).toHaveLength(1);
  });

  it('never retries a 403 or a 501', async () => {
    proxy.failNext(1, 403, 'AccessDenied');
    await expect(store.get('retry/x')).rejects.toMatchObject({
      name: 'BlobStoreError',
      status: 403,
      code: 'AccessDenied',
      retryable: false,
    });
    expect(proxy.requests).toHaveLength(1);
    proxy.reset();
    proxy.failNext(1, 403, 'AccessDenied');
    // A HEAD answer has no body: the code falls back to the status text.
    await expect(store.head('retry/x')).rejects.toMatchObject({ status: 403, code: 'Forbidden' });
    expect(proxy.requests).toHaveLength(1);
    proxy.reset();
    proxy.failNext(1, 501, 'NotImplemented');
    await expect(store.delete('retry/x')).rejects.toMatchObject({ status: 501, retryable: false });
    expect(proxy.requests).toHaveLength(1);
  });

  it('gives up after maxAttempts retries with the last error', async () => {
    proxy.failNext(3, 503, 'SlowDown');
    const err = await store.put('retry/never.txt', 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'BlobStoreError',
      code: 'SlowDown',
      status: 503,
      httpStatus: 503,
    });
    expect(proxy.requests).toHaveLength(3);
    expect(await store.exists('retry/never.txt')).toBe(false);
  });

  it('retries a reset connection and a hung attempt (per-attempt timeout)', async () => {
    proxy.resetNext(1);
    await store.put('retry/reset.txt', 'after a reset');
    expect(proxy.requests).toHaveLength(2);
    proxy.reset();
    proxy.hangNext(1);
    expect((await store.get('retry/reset.txt')).body.toString()).toBe('after a reset');
    expect(proxy.requests).toHaveLength(2);
  });

  it('fails with OperationTimeoutError when every attempt hangs', async () => {
    proxy.hangNext(3);
    await expect(store.head('retry/reset.txt')).rejects.toBeInstanceOf(OperationTimeoutError);
    expect(proxy.requests).toHaveLength(3);
  });

  it('uploads a large stream part by part, holding about one part in memory, retrying a failed part alone', async () => {
    const size = 23 * MiB + 17;
    let produced = 0;
    let maxAhead = 0;
    const source = generatedStream(size, 3, (bytes) => {
      produced += bytes;
      maxAhead = Math.max(maxAhead, produced - proxy.bytesForwarded);
    });
    proxy.failMatching((r) => r.url.includes('partNumber=2'), 500, 'InternalError');
    const put = await store.put('large/stream.bin', source, { contentType: 'video/mp4' });
    expect(put.size).toBe(size);
    const parts = proxy.requests.filter((r) => r.url.includes('partNumber='));
    // 5 parts of 5 MiB (the last shorter), part 2 sent twice.
    expect(parts.map((r) => /partNumber=(\d+)/.exec(r.url)?.[1])).toEqual([
      '1',
      '2',
      '2',
      '3',
      '4',
      '5',
    ]);
    expect(parts.map((r) => r.injected)).toEqual([
      undefined,
      500,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    // Produced but not yet sent: about one part, never the whole 23 MiB.
    expect(maxAhead).toBeLessThan(6 * MiB);
    const { body, size: storedSize, contentType } = await store.getStream('large/stream.bin');
    expect({ storedSize, contentType }).toEqual({ storedSize: size, contentType: 'video/mp4' });
    expect(await sha256Of(body as AsyncIterable<Buffer>)).toBe(
      await sha256Of(generatedStream(size, 3)),
    );
  });

  it('aborts the multipart upload and stores nothing when the source stream fails', async () => {
    let produced = 0;
    const failing = generatedStream(12 * MiB, 5, (bytes) => {
      produced += bytes;
      if (produced > 7 * MiB) failing.destroy(new Error('source broke'));
    });
    await expect(store.put('large/broken.bin', failing)).rejects.toThrow('source broke');
    expect(proxy.requests.some((r) => r.method === 'DELETE' && r.url.includes('uploadId='))).toBe(
      true,
    );
    expect(await store.exists('large/broken.bin')).toBe(false);
  });
});

describe('S3BlobStore circuit breaker', () => {
  it('opens after consecutive failed calls and then fails fast without a request', async () => {
    await using proxy = await S3FaultProxy.start(s3rver.endpoint);
    const store = await s3Store({
      endpoint: proxy.endpoint,
      resilience: {
        retry: false,
        circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
      },
    });
    proxy.reset();
    proxy.failNext(2, 500, 'InternalError');
    await expect(store.get('x')).rejects.toBeInstanceOf(BlobStoreError);
    await expect(store.get('x')).rejects.toBeInstanceOf(BlobStoreError);
    expect(store.circuitState).toBe('open');
    await expect(store.get('x')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(proxy.requests).toHaveLength(2);
    await store.close();
  });

  it('does not count 404s: a missing key never opens the breaker', async () => {
    const store = await s3Store({
      resilience: { circuitBreaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } },
    });
    await expect(store.get('nope-1')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.get('nope-2')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(store.circuitState).toBe('closed');
    await store.close();
  });
});
