import type { MetricsService } from '@infrastructure/monitoring';
import type { Counter, Histogram } from 'prom-client';
import {
  BulkheadFullError,
  CircuitOpenError,
  OperationTimeoutError,
} from '@infrastructure/http-client';
import { BlobNotFoundError, InvalidBlobKeyError, InvalidBlobMetadataError } from './blob.errors.js';

/** `operation` label of the blob metrics. */
export type BlobOperation =
  'put' | 'get' | 'getStream' | 'head' | 'exists' | 'delete' | 'list' | 'signedUrl';

/** `outcome` label of `blob_operations_total`. */
export type BlobOutcome =
  'success' | 'not_found' | 'invalid' | 'error' | 'timeout' | 'circuit_open' | 'rejected';

/** The outcome label of a failed operation. */
export function blobOutcomeOf(error: unknown): BlobOutcome {
  if (error instanceof BlobNotFoundError) return 'not_found';
  if (
    error instanceof InvalidBlobKeyError ||
    error instanceof InvalidBlobMetadataError ||
    error instanceof RangeError
  ) {
    return 'invalid';
  }
  if (error instanceof OperationTimeoutError) return 'timeout';
  if (error instanceof CircuitOpenError) return 'circuit_open';
  if (error instanceof BulkheadFullError) return 'rejected';
  return 'error';
}

/**
 * `blob_operations_total{store,operation,outcome}` (one per call, after retries) and
 * `blob_operation_duration_seconds{store,operation}` (retries and queueing included; for
 * `getStream` until the stream is open).
 */
export class BlobMetrics {
  private readonly operations: Counter<'store' | 'operation' | 'outcome'>;
  private readonly duration: Histogram<'store' | 'operation'>;

  constructor(
    readonly store: string,
    metrics: MetricsService,
  ) {
    this.operations = metrics.counter({
      name: 'blob_operations_total',
      help: 'Object storage operations by store, operation and outcome (success, not_found, invalid, error, timeout, circuit_open, rejected); retries are not counted apart.',
      labelNames: ['store', 'operation', 'outcome'],
    });
    this.duration = metrics.histogram({
      name: 'blob_operation_duration_seconds',
      help: 'Duration of object storage operations, retries and queueing included.',
      labelNames: ['store', 'operation'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    });
  }

  /** Counts one finished operation started at `startedAt` (performance.now()). */
  record(operation: BlobOperation, outcome: BlobOutcome, startedAt: number): void {
    this.operations.inc({ store: this.store, operation, outcome });
    this.duration.observe({ store: this.store, operation }, (performance.now() - startedAt) / 1000);
  }
}
