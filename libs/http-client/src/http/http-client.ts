import type { Readable } from 'node:stream';
import { maskUrl } from '@infrastructure/core';
import { CONTEXT_HEADERS, getLogger, injectContext } from '@infrastructure/monitoring';
import type { Agent, Dispatcher } from 'undici';
import type { ZodType } from 'zod';
import {
  BulkheadFullError,
  CircuitOpenError,
  HttpClientError,
  HttpClientNetworkError,
  HttpClientRequestError,
  REQUEST_ERROR_CODES,
  HttpClientResponseValidationError,
  HttpClientTimeoutError,
  OperationTimeoutError,
  type HttpCallInfo,
} from '../errors.js';
import type { ResolvedHttpClientOptions } from '../http-client.options.js';
import type { HttpClientMetrics, HttpClientOutcome } from '../metrics/http-client.metrics.js';
import { ResiliencePolicy, type CircuitStateName } from '../resilience/resilience.policy.js';
import { parseRetryAfter } from '../resilience/retry-after.js';
import {
  IDEMPOTENT_METHODS,
  type HttpMethod,
  type HttpResponse,
  type QueryParams,
  type RequestOptions,
} from './http-client.types.js';
import { isPrivateAddress, PrivateAddressError, publicOnlyLookup } from './private-network.js';

/**
 * From this `attemptTimeoutMs` on (and with a total `timeoutMs`), undici's `headersTimeout` / `bodyTimeout` bound an attempt
 * (no signal, timer or listener of ours per attempt). Their timers tick every ~0.5 s, so such an
 * attempt ends up to ~1 s late; shorter attempt timeouts keep the policy's exact timer and signal.
 */
export const SOCKET_TIMEOUT_FROM_MS = 2000;

/** Error answers are read up to this many bytes (enough for a problem document), the rest dropped. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
const PROPAGATED = [
  CONTEXT_HEADERS.traceparent,
  CONTEXT_HEADERS.tracestate,
  CONTEXT_HEADERS.correlationId,
];
const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:|^\/\//i;

/** A body beyond its size limit (the call fails with `HttpClientResponseValidationError`). */
export class BodyTooLarge extends Error {}

/** Whether retrying may help after this status: 408, 429 and 5xx except 501. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

/** Whether a `content-type` is JSON: `application/json`, `application/problem+json`, `…+json`. */
export function isJson(contentType: string | string[] | undefined): boolean {
  const raw = Array.isArray(contentType) ? contentType[0] : contentType;
  // An upstream answers with the same few content types: the last one's answer is kept.
  if (raw === lastContentType.raw) return lastContentType.json;
  const ct = raw?.toLowerCase() ?? '';
  const json = JSON_TYPE.test(ct) || ct.startsWith('application/json');
  lastContentType = { raw, json };
  return json;
}
const JSON_TYPE = /^application\/(([\w.-]+\+)?json)\b/;
let lastContentType: { raw: string | undefined; json: boolean } = { raw: undefined, json: false };

/** Reads a body up to `limit` bytes; beyond, the socket is dropped and `BodyTooLarge` thrown (or the text cut, `truncate`). */
export async function readBody(body: Readable, limit: number, truncate: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > limit) {
        if (truncate) break;
        throw new BodyTooLarge(`body larger than ${limit} bytes`);
      }
      chunks.push(buf);
    }
  } finally {
    // Leaving the loop early (break, throw) already destroys the stream; this covers the rest.
    if (!body.destroyed && size > limit) body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A path the URL parser leaves as it is: no dot segment, `%`, `?`, `#`, `\\`, space or non-ASCII. */
const PLAIN_PATH = /^[\w\-.~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;
/** Query text the form encoding leaves as it is. */
const PLAIN_QUERY_TEXT = /^[\w\-.*]*$/;
const FORM_EXTRA = /[!'()~]|%20/g;

/** `text` encoded as `URLSearchParams` does (`application/x-www-form-urlencoded`, space as `+`). */
function formEncode(text: string): string {
  if (PLAIN_QUERY_TEXT.test(text)) return text;
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    // A lone surrogate: URLSearchParams writes it as U+FFFD.
    return new URLSearchParams([['', text]]).toString().slice(1);
  }
  return encoded.replace(FORM_EXTRA, (c) =>
    c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The request target (path and query string) of `path` under `basePath`, with `query` appended
 * (`undefined` values left out, arrays repeat the key): what `new URL(path, baseUrl)` and
 * `searchParams.append` give, without building a URL for the common plain path. Absolute URLs
 * (`https://…`, `//host`, `mailto:`) are refused: a client only talks to its own `baseUrl`.
 */
export function requestTarget(
  client: string,
  origin: string,
  basePath: string,
  path: string,
  query: QueryParams | undefined,
): string {
  if (ABSOLUTE_URL.test(path)) {
    throw new TypeError(
      `HttpClient ${client}: path must be relative to baseUrl, got an absolute URL`,
    );
  }
  const joined = `${basePath}${path.startsWith('/') ? '' : '/'}${path}`;
  let target: string;
  if (PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path)) {
    target = joined;
  } else {
    // Dot segments, escapes, an own query string: as the URL parser normalises them.
    const url = new URL(joined, origin);
    target = `${url.pathname}${url.search}`;
  }
  if (!query) return target;
  let qs = '';
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value === undefined) continue;
    const name = formEncode(key);
    if (Array.isArray(value)) {
      for (const v of value) qs += `${qs ? '&' : ''}${name}=${formEncode(String(v))}`;
    } else {
      qs += `${qs ? '&' : ''}${name}=${formEncode(String(value))}`;
    }
  }
  if (!qs) return target;
  return `${target}${target.includes('?') ? (target.endsWith('?') ? '' : '&') : '?'}${qs}`;
}

/**
 * The headers of one call, names lower-cased, later ones winning: `accept`, the client's
 * `headers`, the context (`traceparent`, `tracestate`, `x-correlation-id` only), the auth header
 * (`token`: what the bearer `tokenProvider` returned), the call's `headers`, its `idempotencyKey`.
 */
export function requestHeaders(
  options: Pick<ResolvedHttpClientOptions, 'headers' | 'propagateContext' | 'auth'>,
  call: Pick<RequestOptions<unknown>, 'headers' | 'idempotencyKey'>,
  token?: string,
): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json, */*;q=0.5' };
  for (const [k, v] of Object.entries(options.headers)) headers[k.toLowerCase()] = v;
  if (options.propagateContext) {
    const ctx = injectContext({} as Record<string, string>);
    for (const key of PROPAGATED) if (ctx[key]) headers[key] = ctx[key];
  }
  const auth = options.auth;
  if (auth?.type === 'bearer') {
    headers.authorization = `Bearer ${token}`;
  } else if (auth?.type === 'forward') {
    const forwarded = auth.from();
    if (forwarded) {
      headers.authorization = /^bearer\s/i.test(forwarded) ? forwarded : `Bearer ${forwarded}`;
    }
  }
  for (const [k, v] of Object.entries(call.headers ?? {})) headers[k.toLowerCase()] = v;
  if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
  return headers;
}

/** Whether a call may be retried: an idempotent method, or an `idempotency-key` header. */
export function isIdempotent(method: string, headers: Record<string, string>): boolean {
  return IDEMPOTENT_METHODS.has(method) || headers['idempotency-key'] !== undefined;
}

/** The body to send: JSON (`content-type` set unless given), strings and bytes as they are. */
export function encodeBody(
  body: unknown,
  headers: Record<string, string>,
): string | Uint8Array | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  headers['content-type'] ??= 'application/json';
  return JSON.stringify(body);
}

/**
 * What the errors of one call carry; the URL is built and masked when first read (most calls
 * never are): secret query parameters, or (`redactPaths`) everything after the origin.
 */
class CallInfo implements HttpCallInfo {
  private masked?: string;

  constructor(
    readonly client: string,
    readonly method: string,
    private readonly origin: string,
    private readonly target: string,
    private readonly redactPaths: boolean,
  ) {}

  get url(): string {
    return (this.masked ??= this.redactPaths
      ? `${this.origin}/…`
      : maskUrl(new URL(this.target, this.origin)));
  }

  toJSON(): HttpCallInfo {
    return { client: this.client, method: this.method, url: this.url };
  }
}

/** The {@link HttpCallInfo} of a call to `target` (path and query) on `origin`. */
export function callInfo(
  client: string,
  method: string,
  origin: string,
  target: string,
  redactPaths = false,
): HttpCallInfo {
  return new CallInfo(client, method, origin, target, redactPaths);
}

/**
 * The answer of a read response: a 2xx with its body parsed (JSON content types) or as text
 * (`undefined` when empty); otherwise `HttpClientError` (with the parsed problem, whether a
 * retry may help, whether the breaker counts it, `Retry-After`). Invalid JSON in a 2xx fails with
 * `HttpClientResponseValidationError`.
 */
export function responseOf(
  info: HttpCallInfo,
  status: number,
  headers: HttpResponse['headers'],
  text: string,
): HttpResponse<unknown> {
  const json = isJson(headers['content-type']);
  if (status < 200 || status >= 300) {
    let problem: unknown;
    if (json && text) {
      try {
        problem = JSON.parse(text);
      } catch {
        problem = undefined; // a cut or broken error body: the status says enough
      }
    }
    throw new HttpClientError(
      info,
      status,
      problem,
      isRetryableStatus(status),
      status >= 500,
      parseRetryAfter(headers['retry-after']),
    );
  }
  let parsed: unknown = text === '' ? undefined : text;
  if (json && text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HttpClientResponseValidationError(info, status, [
        { path: '', message: 'is not valid JSON although content-type says so' },
      ]);
    }
  }
  return { status, headers, body: parsed };
}

/** `res` with its body checked by `schema`; failure lists paths and messages, never values. */
export function validateBody<T>(
  res: HttpResponse<unknown>,
  schema: ZodType<T>,
  info: HttpCallInfo,
): HttpResponse<T> {
  const result = schema.safeParse(res.body);
  if (result.success) return { ...res, body: result.data };
  throw new HttpClientResponseValidationError(
    info,
    res.status,
    result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}

/** The `outcome` label of a failed call. */
export function outcomeOf(error: unknown): HttpClientOutcome {
  if (error instanceof CircuitOpenError) return 'circuit_open';
  if (error instanceof BulkheadFullError) return 'rejected';
  if (error instanceof OperationTimeoutError) return 'timeout';
  return 'error';
}

let undiciLoading: Promise<typeof import('undici')> | undefined;

/** undici, imported at a client's first request: an app whose clients never call does not load it. */
function loadUndici(): Promise<typeof import('undici')> {
  undiciLoading ??= import('undici').catch((e: unknown) => {
    undiciLoading = undefined;
    throw e;
  });
  return undiciLoading;
}

/**
 * A resilient HTTP client for one upstream: keep-alive connection pool (undici `Agent`), the
 * resilience pipeline (bulkhead → circuit breaker → retry → per-attempt timeout, bounded by
 * `timeoutMs`), context propagation, optional bearer token, typed errors, metrics.
 * Get one with `@InjectHttpClient('payments')` or `HttpClients.get('payments')`.
 */
export class HttpClient {
  readonly name: string;
  /** The client's pipeline (its breaker and bulkhead are this client's state). */
  readonly policy: ResiliencePolicy;
  /** The pool, made at the first request (undici is imported then). */
  private agent?: Agent;
  private agentStarting?: Promise<Agent>;
  private readonly agentOptions: Agent.Options;
  /** `attemptTimeoutMs` when undici's socket timeouts keep it (see {@link SOCKET_TIMEOUT_FROM_MS}). */
  private readonly socketTimeoutMs?: number;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly logger = getLogger('HttpClient');
  private readonly unsubscribe: () => void;
  /** Set when `blockPrivateNetworks` and `baseUrl` is a private IP literal (no lookup to guard). */
  private readonly refusedOrigin?: PrivateAddressError;

  constructor(
    readonly options: ResolvedHttpClientOptions,
    private readonly metrics?: HttpClientMetrics,
  ) {
    this.name = options.name;
    this.policy = new ResiliencePolicy(options.resilience);
    // Without attemptTimeoutMs, only a socket that outlives the whole call is stopped here.
    const backstop = options.resilience.timeoutMs || 300_000;
    this.agentOptions = {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      connect: {
        timeout: options.connectTimeoutMs,
        ...(options.blockPrivateNetworks ? { lookup: publicOnlyLookup } : {}),
      },
      // Each request sets its own (attemptTimeoutMs) when it has one.
      headersTimeout: backstop,
      bodyTimeout: backstop,
    };
    const attemptMs = options.resilience.attemptTimeoutMs;
    // Only under a total timeout: undici's two bound the wait for headers and each gap in the
    // body, not the wait for a pooled connection nor a body that trickles in slowly; without a
    // total timeout (webhooks to receivers' URLs) the attempt keeps the exact timer.
    if (attemptMs && attemptMs >= SOCKET_TIMEOUT_FROM_MS && options.resilience.timeoutMs) {
      this.socketTimeoutMs = attemptMs;
    }
    this.origin = options.baseUrl.origin;
    const host = options.baseUrl.hostname;
    if (options.blockPrivateNetworks && isPrivateAddress(host)) {
      this.refusedOrigin = new PrivateAddressError(host, host);
    }
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, '');
    metrics?.circuit(this.policy.circuitState);
    this.unsubscribe = this.policy.subscribe({
      onCircuitStateChange: (state) => {
        metrics?.circuit(state);
        if (state === 'open') {
          this.logger.warn(
            { client: this.name, circuit: state },
            `http client ${this.name}: circuit open, calls fail fast until a probe succeeds`,
          );
        } else {
          this.logger.info(
            { client: this.name, circuit: state },
            `http client ${this.name}: circuit ${state}`,
          );
        }
      },
    });
  }

  /** The breaker's state. */
  get circuitState(): CircuitStateName {
    return this.policy.circuitState;
  }

  get<T = unknown>(path: string, options?: Omit<RequestOptions<T>, 'method' | 'body'>) {
    return this.request<T>(path, { ...options, method: 'GET' });
  }

  post<T = unknown>(path: string, options?: Omit<RequestOptions<T>, 'method'>) {
    return this.request<T>(path, { ...options, method: 'POST' });
  }

  put<T = unknown>(path: string, options?: Omit<RequestOptions<T>, 'method'>) {
    return this.request<T>(path, { ...options, method: 'PUT' });
  }

  patch<T = unknown>(path: string, options?: Omit<RequestOptions<T>, 'method'>) {
    return this.request<T>(path, { ...options, method: 'PATCH' });
  }

  delete<T = unknown>(path: string, options?: Omit<RequestOptions<T>, 'method'>) {
    return this.request<T>(path, { ...options, method: 'DELETE' });
  }

  /**
   * Sends `method path` (relative to `baseUrl`) through the pipeline. Retried only when the
   * method is idempotent or an `Idempotency-Key` is set. Non-2xx → `HttpClientError`.
   */
  async request<T = unknown>(
    path: string,
    options: RequestOptions<T> = {},
  ): Promise<HttpResponse<T>> {
    const method = options.method ?? 'GET';
    const target = requestTarget(this.name, this.origin, this.basePath, path, options.query);
    const info = callInfo(this.name, method, this.origin, target, this.options.redactPaths);
    const started = performance.now();
    let status: number | undefined;
    try {
      let res: HttpResponse<unknown>;
      try {
        res = await this.callOnce(target, method, options, info, false);
      } catch (error) {
        const auth = this.options.auth;
        if (!(error instanceof HttpClientError && error.status === 401)) throw error;
        if (auth?.type !== 'bearer' || !auth.onUnauthorized) throw error;
        // The token was refused: drop it, and send once more with a fresh one.
        await auth.onUnauthorized();
        res = await this.callOnce(target, method, options, info, true);
      }
      status = res.status;
      const parsed = options.schema
        ? validateBody(res, options.schema, info)
        : (res as HttpResponse<T>);
      this.metrics?.record(method, status, 'success', started);
      return parsed;
    } catch (error) {
      status ??= (error as { status?: number }).status;
      this.metrics?.record(method, status, outcomeOf(error), started);
      if (this.options.fallback) {
        return (await this.options.fallback(error, { method, path })) as HttpResponse<T>;
      }
      throw error;
    }
  }

  /** One call through the pipeline, with a token fetched now (`refreshed`: after a 401). */
  private async callOnce(
    target: string,
    method: HttpMethod,
    options: RequestOptions<unknown>,
    info: HttpCallInfo,
    refreshed: boolean,
  ): Promise<HttpResponse<unknown>> {
    const auth = this.options.auth;
    const token = auth?.type === 'bearer' ? await auth.tokenProvider() : undefined;
    const headers = requestHeaders(this.options, options, token);
    const body = encodeBody(options.body, headers);
    if (refreshed) this.logger.debug({ client: this.name, method }, 'retrying with a fresh token');
    return this.policy.execute(
      // Nothing can abort the signal: undici gets none (a listener per call would pile up on it).
      ({ signal, attempt, abortable }) =>
        this.attempt(target, method, headers, body, abortable ? signal : undefined, attempt, info),
      {
        signal: options.signal,
        retry: isIdempotent(method, headers),
        timeoutMs: options.timeoutMs,
        timeoutError: (kind, ms) => new HttpClientTimeoutError(info, kind, ms),
        abortOnReturn: false, // an attempt returns once the body is read: nothing left to stop
        // undici's headersTimeout / bodyTimeout (send), or no attempt timeout at all
        boundsAttempts:
          this.socketTimeoutMs !== undefined || !this.options.resilience.attemptTimeoutMs,
      },
    );
  }

  /** Health probe: `healthUrl` answers below 400 within `healthTimeoutMs` (bypasses the pipeline). */
  async ping(signal?: AbortSignal): Promise<{ status: number }> {
    const target = this.options.healthUrl;
    if (!target) return { status: 0 };
    const timeout = AbortSignal.timeout(this.options.healthTimeoutMs);
    const agent = this.agent ?? (await this.startAgent());
    const res = await agent.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: this.options.headers,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    await res.body.dump();
    if (res.statusCode >= 400) {
      throw new Error(`${maskUrl(target)} answered ${res.statusCode}`);
    }
    return { status: res.statusCode };
  }

  private closed = false;

  /** Closes the pooled connections (module shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    const agent = this.agent ?? (await this.agentStarting?.catch(() => undefined));
    await agent?.close();
  }

  private startAgent(): Promise<Agent> {
    // Closed before its first request: no pool is opened after shutdown.
    if (this.closed && !this.agentStarting) {
      return Promise.reject(new Error(`HttpClient ${this.name} is closed`));
    }
    this.agentStarting ??= loadUndici().then(
      ({ Agent }) => (this.agent = new Agent(this.agentOptions)),
      (e: unknown) => {
        this.agentStarting = undefined;
        throw e;
      },
    );
    return this.agentStarting;
  }

  private async attempt(
    target: string,
    method: HttpMethod,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    signal: AbortSignal | undefined,
    attempt: number,
    info: HttpCallInfo,
  ): Promise<HttpResponse<unknown>> {
    try {
      return await this.send(target, method, headers, body, signal, info);
    } catch (error) {
      this.logger.debug(
        {
          client: this.name,
          method,
          url: info.url,
          attempt,
          status: (error as { status?: number }).status,
          code: (error as { code?: string }).code,
        },
        `http client ${this.name}: attempt ${attempt + 1} failed`,
      );
      throw error;
    }
  }

  private async send(
    target: string,
    method: HttpMethod,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    signal: AbortSignal | undefined,
    info: HttpCallInfo,
  ): Promise<HttpResponse<unknown>> {
    if (this.refusedOrigin) throw new HttpClientNetworkError(info, this.refusedOrigin);
    // The attempt's bound, kept by undici's parser on the socket when long enough: no signal,
    // timer or listener per attempt. The headers must arrive within it once the request is sent,
    // and the body may pause no longer between chunks; a queue wait for a pooled connection and
    // a slow but steady body are bounded by the total timeout.
    const attemptMs = this.socketTimeoutMs;
    let res: Dispatcher.ResponseData;
    try {
      const agent = this.agent ?? (await this.startAgent());
      res = await agent.request({
        origin: this.origin,
        path: target,
        method,
        headers,
        body,
        signal,
        headersTimeout: attemptMs,
        bodyTimeout: attemptMs,
      });
    } catch (error) {
      if (signal?.aborted) throw error; // a timeout or the caller: the policy names it
      const code = (error as { code?: unknown } | null)?.code;
      if (attemptMs && code === 'UND_ERR_HEADERS_TIMEOUT') {
        throw new HttpClientTimeoutError(info, 'attempt', attemptMs);
      }
      if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
        throw new HttpClientRequestError(info, code, error);
      }
      throw new HttpClientNetworkError(info, error);
    }
    const status = res.statusCode;
    const ok = status >= 200 && status < 300;
    const limit = ok ? this.options.maxResponseBytes : MAX_ERROR_BODY_BYTES;
    let text: string;
    try {
      // A declared length within the limit (the parser enforces it): undici's own consumer,
      // several times cheaper than iterating the stream. Otherwise read chunk by chunk, bounded.
      text =
        Number(res.headers['content-length']) <= limit
          ? await res.body.text()
          : await readBody(res.body, limit, !ok);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        throw new HttpClientResponseValidationError(info, status, [
          { path: '', message: error.message },
        ]);
      }
      if (signal?.aborted) throw error;
      if (attemptMs && (error as { code?: unknown } | null)?.code === 'UND_ERR_BODY_TIMEOUT') {
        throw new HttpClientTimeoutError(info, 'attempt', attemptMs);
      }
      throw new HttpClientNetworkError(info, error);
    }
    return responseOf(info, status, res.headers, text);
  }
}
