import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MissingDependencyError } from '@infrastructure/core';
import { BlobStorageConfigError, InvalidBlobKeyError } from './blob.errors.js';
import { S3BlobStore } from './s3-blob.store.js';

const AWS_EXAMPLE = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

function notFound(pkg: string): Error {
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/x.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * An independent SigV4 query-string verifier (AWS "Authenticating Requests: Using Query
 * Parameters"), checked below against AWS's published example before it checks our URLs.
 */
function expectedSignature(url: string, secretAccessKey: string): string {
  const u = new URL(url);
  const params = [...u.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const query = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const date = u.searchParams.get('X-Amz-Date')!;
  const scope = u.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const [day, region, service] = scope.split('/') as [string, string, string];
  const canonical = [
    'GET',
    u.pathname,
    query,
    `host:${u.host}\n`,
    u.searchParams.get('X-Amz-SignedHeaders'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const toSign = [
    'AWS4-HMAC-SHA256',
    date,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service),
    'aws4_request',
  );
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('S3BlobStore.create', () => {
  it('throws MissingDependencyError with the npm install line when @aws-sdk/client-s3 is absent', async () => {
    const err = await S3BlobStore.create(
      { bucket: 'my-bucket' },
      { importer: (pkg) => Promise.reject(notFound(pkg)) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingDependencyError);
    expect((err as Error).message).toBe(
      'S3BlobStore needs "@aws-sdk/client-s3". Run: npm install @aws-sdk/client-s3',
    );
  });

  it('rethrows the error of an installed but broken SDK (not reported as missing)', async () => {
    const broken = new SyntaxError('Unexpected token in @aws-sdk/client-s3/dist/index.js');
    await expect(
      S3BlobStore.create({ bucket: 'my-bucket' }, { importer: () => Promise.reject(broken) }),
    ).rejects.toBe(broken);
  });

  it('validates options before loading the SDK, naming the key and never echoing a credential', async () => {
    const importer = vi.fn<(pkg: string) => Promise<unknown>>();
    const err = await S3BlobStore.create(
      {
        bucket: 'my-bucket',
        credentials: { accessKeyId: 'AKIA-SHOWN', secretAccessKey: 42 as unknown as string },
      },
      { importer },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobStorageConfigError);
    expect((err as Error).message).toContain('S3BlobStore: options.credentials.secretAccessKey');
    expect((err as Error).message).not.toContain('42');
    expect(importer).not.toHaveBeenCalled();
  });

  it.each([
    [{ bucket: 'No_Caps' }, 'options.bucket: must be a bucket name'],
    [{ bucket: 'ok-bucket', endpoint: 'ftp://x' }, 'options.endpoint: must be an http(s) URL'],
    [
      { bucket: 'ok-bucket', endpoint: 'http://key:secret@minio:9000' },
      'options.endpoint: must not carry credentials',
    ],
    [{ bucket: 'ok-bucket', partSizeBytes: 1024 }, 'options.partSizeBytes: must be at least 5 MiB'],
    [{ bucket: 'ok-bucket', prefix: '../up' }, 'options.prefix'],
    [
      { bucket: 'ok-bucket', resilience: { retry: { maxAttempts: -1 } } },
      'options.resilience.retry.maxAttempts',
    ],
    [{ bucket: 'ok-bucket', checksums: 'always' }, 'options.checksums'],
    [{ bucket: 'ok-bucket', bukcet: 'typo' }, 'Unrecognized key: "bukcet"'],
  ])('refuses %j naming the key', async (options, message) => {
    await expect(S3BlobStore.create(options as never)).rejects.toThrow(message);
  });
});

describe('S3BlobStore.signedUrl', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("the test verifier reproduces the signature of AWS's published presigned URL example", () => {
    const url =
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host';
    expect(expectedSignature(url, AWS_EXAMPLE.secretAccessKey)).toBe(
      'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  it('signs a virtual-hosted AWS URL that the verifier accepts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2013-05-24T00:00:00Z'));
    const store = await S3BlobStore.create({
      bucket: 'examplebucket',
      region: 'us-east-1',
      endpoint: 'https://s3.amazonaws.com',
      credentials: AWS_EXAMPLE,
    });
    const url = await store.signedUrl('test.txt', { expiresInSeconds: 86_400 });
    const u = new URL(url);
    expect(u.origin + u.pathname).toBe('https://examplebucket.s3.amazonaws.com/test.txt');
    expect(u.searchParams.get('X-Amz-Credential')).toBe(
      'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
    );
    expect(u.searchParams.get('X-Amz-Expires')).toBe('86400');
    expect(u.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, AWS_EXAMPLE.secretAccessKey),
    );
    expect(url).not.toContain(AWS_EXAMPLE.secretAccessKey);
    await store.close();
  });

  it('signs path-style URLs with a prefix and odd characters in the key', async () => {
    const store = await S3BlobStore.create({
      bucket: 'my-bucket',
      region: 'eu-west-1',
      endpoint: 'http://localhost:9000',
      forcePathStyle: true,
      prefix: 'tenant-a/',
      credentials: AWS_EXAMPLE,
    });
    const url = await store.signedUrl("reports/Q1 (final)+ü's.pdf");
    const u = new URL(url);
    expect(u.origin).toBe('http://localhost:9000');
    expect(u.pathname).toBe('/my-bucket/tenant-a/reports/Q1%20%28final%29%2B%C3%BC%27s.pdf');
    expect(u.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(u.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, AWS_EXAMPLE.secretAccessKey),
    );
    await expect(store.signedUrl('../x')).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(store.signedUrl('x', { expiresInSeconds: 604_801 })).rejects.toThrow(
      'expiresInSeconds must be an integer 1-604800',
    );
    await store.close();
  });
});
