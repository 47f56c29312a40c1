import { MonitoringModule } from '@infrastructure/monitoring';
import {
  createTestApp,
  LogCapture,
  testMonitoringOptions,
  type TestApp,
} from '@infrastructure/testing';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStorageModule } from '../src/blob-storage.module.js';
import { BlobStore } from '../src/blob-store.js';
import { BlobNotFoundError } from '../src/blob.errors.js';
import { S3FaultProxy, S3RVER_CREDENTIALS, S3rverProcess } from './s3-server.js';

async function metrics(t: TestApp): Promise<string> {
  return (await t.request.get('/metrics').expect(200)).text;
}

describe('BlobStorageModule (fs) with MonitoringModule', () => {
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blob-module-int-'));
    t = await createTestApp({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        BlobStorageModule.forRoot({ driver: 'fs', fs: { root: join(dir, 'store') } }),
      ],
    });
  });

  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports blob_operations_total by operation and outcome, and durations', async () => {
    const blobs = t.app.get(BlobStore);
    await blobs.put('m/a.txt', 'a');
    await blobs.get('m/a.txt');
    await expect(blobs.get('m/none')).rejects.toBeInstanceOf(BlobNotFoundError);
    const text = await metrics(t);
    expect(text).toContain('blob_operations_total{store="fs",operation="put",outcome="success"} 1');
    expect(text).toContain('blob_operations_total{store="fs",operation="get",outcome="success"} 1');
    expect(text).toContain(
      'blob_operations_total{store="fs",operation="get",outcome="not_found"} 1',
    );
    expect(text).toMatch(/blob_operation_duration_seconds_count\{store="fs",operation="get"\} 2/);
  });

  it('reports blob:fs up in readiness, and degraded (still 200) when the directory is gone', async () => {
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details['blob:fs']).toMatchObject({ status: 'up' });
    await rm(join(dir, 'store'), { recursive: true });
    const degraded = await t.request.get('/health/ready').expect(200);
    expect(degraded.body.details['blob:fs']).toMatchObject({
      status: 'degraded',
      reason: 'fs blob store: ENOENT',
    });
  });
});

describe('BlobStorageModule (s3 via s3rver) with MonitoringModule', () => {
  let s3rver: S3rverProcess;
  let proxy: S3FaultProxy;
  let t: TestApp;
  const logs = new LogCapture();
  const secret = `secret-${randomUUID()}`;

  beforeAll(async () => {
    s3rver = await S3rverProcess.start();
    proxy = await S3FaultProxy.start(s3rver.endpoint);
    t = await createTestApp({
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({ logging: { level: 'debug', destination: logs } }),
        ),
        BlobStorageModule.forRootAsync({
          useFactory: () => ({
            driver: 's3' as const,
            s3: {
              bucket: `module-${randomUUID().slice(0, 8)}`,
              endpoint: proxy.endpoint,
              forcePathStyle: true,
              credentials: { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: secret },
              createBucketIfMissing: true,
              resilience: { retry: { maxAttempts: 1, initialDelayMs: 5, maxDelayMs: 5 } },
            },
          }),
        }),
      ],
    });
  });

  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await s3rver?.close();
  });

  it('works end to end and counts S3 operations, retries not counted apart', async () => {
    const blobs = t.app.get(BlobStore);
    proxy.failNext(1, 503, 'SlowDown');
    await blobs.put('docs/a.txt', 'hello s3', { contentType: 'text/plain' });
    expect((await blobs.get('docs/a.txt')).body.toString()).toBe('hello s3');
    proxy.failNext(2, 500, 'InternalError');
    await expect(blobs.head('docs/a.txt')).rejects.toMatchObject({ name: 'BlobStoreError' });
    const text = await metrics(t);
    expect(text).toContain('blob_operations_total{store="s3",operation="put",outcome="success"} 1');
    expect(text).toContain('blob_operations_total{store="s3",operation="head",outcome="error"} 1');
  });

  it('reports blob:s3 in readiness (HeadBucket), degraded but 200 when S3 answers 503', async () => {
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details['blob:s3']).toMatchObject({ status: 'up', circuit: 'closed' });
    proxy.failNext(1, 503, 'ServiceUnavailable');
    const degraded = await t.request.get('/health/ready').expect(200);
    expect(degraded.body.details['blob:s3']).toMatchObject({ status: 'degraded' });
    expect(degraded.body.details['blob:s3'].reason).toContain('ServiceUnavailable');
  });

  it('never logs or exposes the secret access key', async () => {
    const details = await t.request.get('/health').expect((r) => r.status < 600);
    expect(JSON.stringify(details.body)).not.toContain(secret);
    // The earlier retries were logged (debug), with code and attempt but no credentials.
    expect(logs.records.some((r) => r.context === 'BlobStore' && r.code === 'SlowDown')).toBe(true);
    expect(logs.text).not.toContain(secret);
  });
});
