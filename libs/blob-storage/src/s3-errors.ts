import { STATUS_CODES } from 'node:http';
import {
  BlobNotFoundError,
  BlobStoreError,
  InvalidBlobKeyError,
  InvalidBlobMetadataError,
} from './blob.errors.js';

const THROTTLING = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottledException',
]);

/** S3 answers these with 400 although retrying helps. */
const TRANSIENT_CLIENT = new Set([
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'IDPCommunicationError',
]);

const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * Our error for an SDK error: `BlobNotFoundError` for a missing key, else `BlobStoreError` whose
 * `retryable` / `countsAsFailure` follow the HTTP client's rules: retry throttling, 408/`RequestTimeout`,
 * 5xx except 501, network errors and timeouts; never other 4xx. The breaker counts 5xx, network
 * errors and timeouts (not 4xx or 429: the caller's or quota problems, not an unwell backend).
 * Aborts (`AbortError`) and our own errors pass through.
 */
export function translateS3Error(error: unknown, operation: string, key?: string): unknown {
  if (
    error instanceof BlobNotFoundError ||
    error instanceof BlobStoreError ||
    error instanceof InvalidBlobKeyError ||
    error instanceof InvalidBlobMetadataError
  ) {
    return error;
  }
  const e = (error ?? {}) as SdkErrorShape;
  if (e.name === 'AbortError') return error;
  const status = e.$metadata?.httpStatusCode;
  // HEAD answers have no body to name the error: fall back to the status text (`Forbidden`).
  const code =
    (e.name && e.name !== 'Error' && e.name !== 'Unknown' ? e.name : (e.Code ?? e.code)) ??
    (status === undefined ? undefined : STATUS_CODES[status]?.replace(/[^A-Za-z]/g, ''));
  if (status === 404 && key !== undefined && (code === 'NoSuchKey' || code === 'NotFound')) {
    return new BlobNotFoundError(key, { cause: error });
  }
  let retryable: boolean;
  let counts: boolean;
  if (status === undefined) {
    // No answer: the request did not make it (or the answer did not come back).
    const network = code === 'TimeoutError' || (e.code !== undefined && NETWORK.has(e.code));
    retryable = network || e.$retryable !== undefined;
    counts = true;
  } else if (status === 429 || (code !== undefined && THROTTLING.has(code))) {
    retryable = true;
    counts = status >= 500;
  } else if (status === 408 || (code !== undefined && TRANSIENT_CLIENT.has(code))) {
    retryable = true;
    counts = false;
  } else if (status >= 500) {
    retryable = status !== 501;
    counts = status !== 501;
  } else {
    retryable = false;
    counts = false;
  }
  return new BlobStoreError(
    's3',
    operation,
    key,
    status,
    e.code && NETWORK.has(e.code) ? e.code : code,
    retryable,
    counts,
    { cause: error },
  );
}
