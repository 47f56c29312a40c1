import { MetricsService } from '@infrastructure/monitoring';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, UnsupportedBlobOperationError } from './blob.errors.js';
import { BlobMetrics } from './blob.metrics.js';
import { FileSystemBlobStore } from './fs-blob.store.js';
import { MeteredBlobStore } from './metered-blob.store.js';

let dir: string;
let registry: Registry;
let store: MeteredBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blob-metrics-'));
  registry = new Registry();
  const inner = await new FileSystemBlobStore({ root: dir }).init();
  store = new MeteredBlobStore(inner, new BlobMetrics(inner.kind, new MetricsService(registry)));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('MeteredBlobStore', () => {
  it('counts every operation by store, operation and outcome, and times it', async () => {
    await store.put('a.txt', 'a');
    await store.put('b.txt', 'b');
    await store.get('a.txt');
    await expect(store.get('missing')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.head('../x')).rejects.toThrow('invalid blob key');
    await expect(store.signedUrl('a.txt')).rejects.toBeInstanceOf(UnsupportedBlobOperationError);
    expect(await store.exists('missing')).toBe(false);
    await store.list('');
    await store.delete('a.txt');
    const text = await registry.metrics();
    for (const line of [
      'blob_operations_total{store="fs",operation="put",outcome="success"} 2',
      'blob_operations_total{store="fs",operation="get",outcome="success"} 1',
      'blob_operations_total{store="fs",operation="get",outcome="not_found"} 1',
      'blob_operations_total{store="fs",operation="head",outcome="invalid"} 1',
      'blob_operations_total{store="fs",operation="signedUrl",outcome="error"} 1',
      'blob_operations_total{store="fs",operation="exists",outcome="success"} 1',
      'blob_operations_total{store="fs",operation="list",outcome="success"} 1',
      'blob_operations_total{store="fs",operation="delete",outcome="success"} 1',
      'blob_operation_duration_seconds_count{store="fs",operation="put"} 2',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('behaves as the wrapped store (kind, results, errors)', async () => {
    expect(store.kind).toBe('fs');
    expect(store.circuitState).toBeUndefined();
    const put = await store.put('c.txt', 'ccc', { contentType: 'text/plain' });
    expect(await store.head('c.txt')).toMatchObject({
      size: 3,
      etag: put.etag,
      contentType: 'text/plain',
    });
    await expect(store.ping()).resolves.toEqual({});
  });
});
