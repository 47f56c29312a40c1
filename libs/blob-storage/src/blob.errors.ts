/** Bad `BlobStorageModule` / store options; the message names the key (`options.s3.bucket`). */
export class BlobStorageConfigError extends Error {
  override readonly name = 'BlobStorageConfigError';
}

/** No object under `key`. Not retried, not counted by the breaker. Answers 404 if it reaches the problem filter. */
export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  readonly httpStatus = 404;
  readonly retryable = false;
  readonly countsAsFailure = false;
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`blob "${key}" not found`, options);
  }
}

/**
 * A key the stores refuse: empty, longer than 1024 UTF-8 bytes, with NUL or control characters,
 * a backslash, a leading `/`, an empty, `.` or `..` segment, or a trailing `/`. Answers 400.
 */
export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
  readonly httpStatus = 400;
  readonly retryable = false;
  readonly countsAsFailure = false;
  constructor(
    /** The refused key (control characters escaped, cut at 200 characters). */
    readonly key: string,
    reason: string,
  ) {
    super(`invalid blob key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** User metadata the stores refuse (names, values or total size). Answers 400. */
export class InvalidBlobMetadataError extends Error {
  override readonly name = 'InvalidBlobMetadataError';
  readonly httpStatus = 400;
  readonly retryable = false;
  readonly countsAsFailure = false;
}

/** The store does not offer this operation (e.g. `signedUrl` on the file system store). */
export class UnsupportedBlobOperationError extends Error {
  override readonly name = 'UnsupportedBlobOperationError';
  readonly retryable = false;
  readonly countsAsFailure = false;
  constructor(
    readonly store: string,
    readonly operation: string,
  ) {
    super(`the ${store} blob store does not support ${operation}()`);
  }
}

/**
 * A store operation failed for another reason than a missing object: the backend answered an
 * error (`status`, `code` such as `SlowDown`, `AccessDenied`) or did not answer (`code` such as
 * `ECONNREFUSED`). `retryable` and `countsAsFailure` steer the resilience pipeline. The message
 * never carries credentials or object contents. Answers 502 (503 when throttled).
 */
export class BlobStoreError extends Error {
  override readonly name = 'BlobStoreError';
  readonly httpStatus: number;
  constructor(
    readonly store: string,
    readonly operation: string,
    readonly key: string | undefined,
    /** The backend's HTTP status, when it answered. */
    readonly status: number | undefined,
    /** The backend's error code (`SlowDown`, `AccessDenied`, `ECONNRESET`...). */
    readonly code: string | undefined,
    /** Whether retrying may help (throttling, 5xx except 501, network errors, timeouts). */
    readonly retryable: boolean,
    /** Whether the breaker counts it (the backend is unwell, not the request). */
    readonly countsAsFailure: boolean,
    options?: ErrorOptions,
  ) {
    super(
      `${store} blob store: ${operation}${key === undefined ? '' : ` "${key}"`} failed: ${code ?? 'error'}${status === undefined ? '' : ` (HTTP ${status})`}`,
      options,
    );
    this.httpStatus = status === 429 || status === 503 ? 503 : 502;
  }
}
