import { traitOf } from '@infrastructure/core';

/** Bad `HttpClientModule` options; the message names the key (`options.clients.payments.timeoutMs`). */
export class HttpClientConfigError extends Error {
  override readonly name: string = 'HttpClientConfigError';
}

/**
 * The circuit breaker of `policy` is open: the dependency failed repeatedly and calls fail fast,
 * without touching the network, until the half-open probe succeeds. Answers 503 if it reaches the
 * problem filter.
 */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  readonly httpStatus = 503;
  readonly retryable = false;
  readonly countsAsFailure = false;
  constructor(
    readonly policy: string,
    options?: ErrorOptions,
  ) {
    super(
      `${policy}: circuit open (the dependency failed repeatedly); failing fast until a probe succeeds`,
      options,
    );
  }
}

/** More calls to `policy` than its bulkhead allows (running + queued). Answers 503. */
export class BulkheadFullError extends Error {
  override readonly name = 'BulkheadFullError';
  readonly httpStatus = 503;
  readonly retryable = false;
  readonly countsAsFailure = false;
  constructor(
    readonly policy: string,
    readonly maxConcurrent: number,
    readonly maxQueue: number,
    options?: ErrorOptions,
  ) {
    super(
      `${policy}: bulkhead full (${maxConcurrent} running, ${maxQueue} queued); shed load or raise bulkhead.maxConcurrent / maxQueue`,
      options,
    );
  }
}

/**
 * A call did not finish in time: one attempt (`kind: 'attempt'`, `attemptTimeoutMs`, after any
 * retries) or the whole call (`kind: 'total'`, `timeoutMs`, retries and queueing included).
 * Answers 504.
 */
export class OperationTimeoutError extends Error {
  override readonly name: string = 'OperationTimeoutError';
  readonly httpStatus = 504;
  readonly countsAsFailure = true;
  constructor(
    readonly policy: string,
    readonly kind: 'attempt' | 'total',
    readonly timeoutMs: number,
    message = `${policy}: ${kind === 'total' ? 'call' : 'attempt'} timed out after ${timeoutMs} ms`,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What every error of an HTTP client call carries: the client, method and URL (secrets masked). */
export interface HttpCallInfo {
  /** The client's name (`payments`). */
  client: string;
  method: string;
  /** The request URL with secret query parameters and userinfo masked. */
  url: string;
}

/**
 * The server answered with a non-2xx status. `problem` holds the parsed body when it was
 * `application/problem+json` or JSON (not enumerable, so logging the error does not log the
 * body). Answers 502 if it reaches the problem filter (the upstream failed, not the caller).
 */
export class HttpClientError extends Error {
  override readonly name = 'HttpClientError';
  readonly httpStatus = 502;
  readonly client: string;
  readonly method: string;
  readonly url: string;
  /** Parsed JSON / problem+json body of the answer, if any. */
  declare readonly problem: unknown;
  constructor(
    info: HttpCallInfo,
    /** The upstream status. */
    readonly status: number,
    problem: unknown,
    /** Whether retrying may help (408, 429, 5xx except 501). */
    readonly retryable: boolean,
    /** Whether the breaker counts it (5xx: the dependency is unwell; 4xx are the caller's). */
    readonly countsAsFailure: boolean,
    /** `Retry-After` of the answer in milliseconds, when given. */
    readonly retryAfterMs?: number,
  ) {
    super(`${info.client}: ${info.method} ${info.url} answered ${status}${titleOf(problem)}`);
    this.client = info.client;
    this.method = info.method;
    this.url = info.url;
    Object.defineProperty(this, 'problem', { value: problem, enumerable: false });
  }
}

function titleOf(problem: unknown): string {
  const title = (problem as { title?: unknown } | null)?.title;
  return typeof title === 'string' && title.length <= 200 ? ` (${title})` : '';
}

/** A call of an HTTP client did not finish in time (see {@link OperationTimeoutError}). */
export class HttpClientTimeoutError extends OperationTimeoutError {
  override readonly name = 'HttpClientTimeoutError';
  readonly retryable = true;
  readonly method: string;
  readonly url: string;
  constructor(info: HttpCallInfo, kind: 'attempt' | 'total', timeoutMs: number) {
    super(
      info.client,
      kind,
      timeoutMs,
      `${info.client}: ${info.method} ${info.url} ${kind === 'total' ? 'call' : 'attempt'} timed out after ${timeoutMs} ms`,
    );
    this.method = info.method;
    this.url = info.url;
  }
}

/**
 * undici refused to send the request as built: an invalid header name or value, a body whose
 * length does not match its Content-Length, an unsupported option. The caller's bug, not the
 * network's: never retried, never counted by the circuit breaker, a 500 when it reaches HTTP.
 */
export class HttpClientRequestError extends Error {
  override readonly name = 'HttpClientRequestError';
  readonly retryable = false;
  readonly countsAsFailure = false;
  readonly client: string;
  readonly method: string;
  readonly url: string;
  /** undici's error code (`UND_ERR_INVALID_ARG`...). */
  readonly code: string;
  constructor(info: HttpCallInfo, code: string, cause: unknown) {
    super(
      `${info.client}: ${info.method} ${info.url} could not be sent: ${code} (${(cause as Error)?.message ?? ''})`,
      {
        cause,
      },
    );
    this.client = info.client;
    this.method = info.method;
    this.url = info.url;
    this.code = code;
  }
}

/** undici error codes that mean the request was invalid as built (see {@link HttpClientRequestError}). */
export const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
]);

/** No answer: connection refused or reset, DNS failure, socket closed mid-answer... Answers 502. */
export class HttpClientNetworkError extends Error {
  override readonly name = 'HttpClientNetworkError';
  readonly httpStatus = 502;
  /** False when the cause says so (an address refused by `blockPrivateNetworks`). */
  readonly retryable: boolean;
  readonly countsAsFailure: boolean;
  readonly client: string;
  readonly method: string;
  readonly url: string;
  /** The driver's error code (`ECONNREFUSED`, `UND_ERR_SOCKET`...). */
  readonly code?: string;
  constructor(info: HttpCallInfo, cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    super(
      `${info.client}: ${info.method} ${info.url} failed: ${typeof code === 'string' ? code : ((cause as Error)?.message ?? String(cause))}`,
      { cause },
    );
    this.client = info.client;
    this.method = info.method;
    this.url = info.url;
    if (typeof code === 'string') this.code = code;
    this.retryable = traitOf(cause, 'retryable') !== false;
    this.countsAsFailure = this.retryable;
  }
}

/**
 * A 2xx answer did not match the call's `schema` (or was not the JSON it claimed). `issues` lists
 * paths and messages, never values. Answers 502.
 */
export class HttpClientResponseValidationError extends Error {
  override readonly name = 'HttpClientResponseValidationError';
  readonly httpStatus = 502;
  readonly retryable = false;
  readonly countsAsFailure = false;
  readonly client: string;
  readonly method: string;
  readonly url: string;
  constructor(
    info: HttpCallInfo,
    readonly status: number,
    readonly issues: ReadonlyArray<{ path: string; message: string }>,
  ) {
    const first = issues[0];
    super(
      `${info.client}: ${info.method} ${info.url} answered ${status} with an unexpected body${first ? `: ${first.path || '(root)'} ${first.message}` : ''}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`,
    );
    this.client = info.client;
    this.method = info.method;
    this.url = info.url;
  }
}
