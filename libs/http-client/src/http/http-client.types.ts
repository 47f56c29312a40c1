import type { ZodType } from 'zod';

/** HTTP methods the client sends. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** Methods retried without an `Idempotency-Key` (RFC 9110 idempotent methods). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
]);

/** Query string values; `undefined` entries are left out, arrays repeat the key. */
export type QueryParams = Record<
  string,
  string | number | boolean | undefined | ReadonlyArray<string | number | boolean>
>;

/** Options of one call. */
export interface RequestOptions<T = unknown> {
  /** @default 'GET' (with `request`) */
  method?: HttpMethod;
  query?: QueryParams;
  /** Sent as JSON (`content-type: application/json`); a string or bytes are sent as they are. */
  body?: unknown;
  /** Extra headers of this call (win over the client's `headers`). */
  headers?: Record<string, string>;
  /** Validates the (JSON) body of a 2xx answer; failure → `HttpClientResponseValidationError`. */
  schema?: ZodType<T>;
  /** Sent as `Idempotency-Key`; makes POST and PATCH retryable. */
  idempotencyKey?: string;
  /** The caller's signal: aborting stops the call, retries included. */
  signal?: AbortSignal;
  /** Overrides the client's total `timeoutMs` for this call. */
  timeoutMs?: number;
}

/** A 2xx answer. `body` is the parsed JSON (or text for other content types, `undefined` when empty). */
export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** Where the bearer token of a client comes from. */
export type HttpClientAuth =
  | {
      /** A token per call from `tokenProvider` (e.g. `() => clientCredentials.getAccessToken()`). */
      type: 'bearer';
      tokenProvider: () => Promise<string> | string;
      /**
       * Called when the upstream answers 401 (the token expired early or was revoked), e.g.
       * `() => clientCredentials.invalidate()`; the call is then sent once more with a fresh token
       * from `tokenProvider` (whatever the method: a 401 request was refused, not processed).
       */
      onUnauthorized?: () => Promise<void> | void;
    }
  | {
      /**
       * Forward the caller's bearer (opt-in: only to services that should act as the user).
       * `from` returns the incoming token or `Authorization` value, e.g. from the request in CLS.
       */
      type: 'forward';
      from: () => string | undefined;
    };

/** Called with the final error of a call; its answer is returned instead. Rethrow to fail. */
export type HttpFallback = (
  error: unknown,
  request: { method: HttpMethod; path: string },
) => HttpResponse<unknown> | Promise<HttpResponse<unknown>>;
