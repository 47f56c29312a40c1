import type { CircuitStateName } from '@infrastructure/http-client';
import { blobOutcomeOf, type BlobMetrics, type BlobOperation } from './blob.metrics.js';
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

/**
 * A `BlobStore` that counts and times every operation of the store it wraps (what
 * `BlobStorageModule` provides when `MonitoringModule` is there). Behaviour is the wrapped store's.
 */
export class MeteredBlobStore extends BlobStore {
  readonly kind: string;

  constructor(
    /** The wrapped store. */
    readonly inner: BlobStore,
    private readonly metrics: BlobMetrics,
  ) {
    super();
    this.kind = inner.kind;
  }

  /** The wrapped store's breaker state, when it has one. */
  get circuitState(): CircuitStateName | undefined {
    return (this.inner as { circuitState?: CircuitStateName }).circuitState;
  }

  put(key: string, body: BlobBody, options?: BlobPutOptions): Promise<BlobPutResult> {
    return this.measure('put', () => this.inner.put(key, body, options));
  }

  get(key: string, options?: { signal?: AbortSignal }): Promise<BlobObject> {
    return this.measure('get', () => this.inner.get(key, options));
  }

  getStream(key: string, options?: { signal?: AbortSignal }): Promise<BlobStream> {
    return this.measure('getStream', () => this.inner.getStream(key, options));
  }

  head(key: string, options?: { signal?: AbortSignal }): Promise<BlobInfo> {
    return this.measure('head', () => this.inner.head(key, options));
  }

  exists(key: string, options?: { signal?: AbortSignal }): Promise<boolean> {
    return this.measure('exists', () => this.inner.exists(key, options));
  }

  delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.measure('delete', () => this.inner.delete(key, options));
  }

  list(
    prefix: string,
    options?: BlobListOptions & { signal?: AbortSignal },
  ): Promise<BlobListPage> {
    return this.measure('list', () => this.inner.list(prefix, options));
  }

  override signedUrl(key: string, options?: SignedUrlOptions): Promise<string> {
    return this.measure('signedUrl', () => this.inner.signedUrl(key, options));
  }

  ping(signal?: AbortSignal): Promise<Record<string, unknown> | void> {
    return this.inner.ping(signal);
  }

  override close(): Promise<void> {
    return this.inner.close();
  }

  private async measure<T>(operation: BlobOperation, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await fn();
      this.metrics.record(operation, 'success', started);
      return result;
    } catch (error) {
      this.metrics.record(operation, blobOutcomeOf(error), started);
      throw error;
    }
  }
}
