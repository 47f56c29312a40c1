import { Readable } from 'node:stream';
import { CONTEXT_HEADERS } from '@infrastructure/monitoring';
import { ClsServiceManager } from 'nestjs-cls';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BulkheadFullError,
  CircuitOpenError,
  HttpClientError,
  HttpClientResponseValidationError,
  HttpClientTimeoutError,
  OperationTimeoutError,
} from '../errors.js';
import type { HttpClientAuth } from './http-client.types.js';
import {
  BodyTooLarge,
  callInfo,
  encodeBody,
  isIdempotent,
  isJson,
  isRetryableStatus,
  outcomeOf,
  readBody,
  requestHeaders,
  requestTarget,
  responseOf,
  validateBody,
} from './http-client.js';

const info = callInfo('payments', 'GET', 'https://api.test', '/v1/orders?token=s3cr3t&id=7');
const store = {
  correlationId: 'corr-1',
  causationId: 'cause-1',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  userId: 'user-1',
  tenantId: 'tenant-1',
};

function clientOptions(
  overrides: {
    headers?: Record<string, string>;
    propagateContext?: boolean;
    auth?: HttpClientAuth;
  } = {},
) {
  return { headers: {}, propagateContext: true, ...overrides };
}

/** Runs `fn` inside a request context like the one the monitoring lib opens per request. */
function inContext<T>(fn: () => T): T {
  return ClsServiceManager.getClsService().runWith(store as never, fn);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** What `new URL(basePath + path, origin)` plus `searchParams.append` gives: the reference. */
function viaUrl(origin: string, basePath: string, path: string, query?: Record<string, unknown>) {
  const url = new URL(`${basePath}${path.startsWith('/') ? '' : '/'}${path}`, origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return `${url.pathname}${url.search}`;
}

describe('requestTarget', () => {
  it.each([
    'https://evil.test/x',
    'HTTP://evil.test',
    '//evil.test/x',
    'mailto:a@b.test',
    'javascript:alert(1)',
  ])('refuses the absolute URL %s, naming the client', (path) => {
    expect(() => requestTarget('payments', 'https://api.test', '/v1', path, undefined)).toThrow(
      new TypeError('HttpClient payments: path must be relative to baseUrl, got an absolute URL'),
    );
  });

  it.each(['orders/7', '/orders/7'])('puts %s under the base path', (path) => {
    expect(requestTarget('payments', 'https://api.test', '/v1', path, undefined)).toBe(
      '/v1/orders/7',
    );
  });

  it('appends query values: arrays repeat the key, undefined is left out, values are encoded', () => {
    const target = requestTarget('payments', 'https://api.test', '', '/orders', {
      page: 2,
      tag: ['a', 'b'],
      draft: false,
      skip: undefined,
      q: 'a b&c',
    });
    expect(target).toBe('/orders?page=2&tag=a&tag=b&draft=false&q=a+b%26c');
  });

  it('keeps a query string already in the path and appends to it', () => {
    expect(
      requestTarget('payments', 'https://api.test', '/v1', '/orders?sort=asc', { page: 1 }),
    ).toBe('/v1/orders?sort=asc&page=1');
  });

  it.each([
    ['/orders/7'],
    ['/files/report.v2.pdf'],
    ['/a/./b/../c'],
    ['/v1/../admin'],
    ['/%2e%2e/admin'],
    ['/orders/ä ö'],
    ['/orders/a%20b'],
    ['/x\\y'],
    ["/it's(~)!*"],
    ['/a//b'],
    ['/q?'],
    ['/q?x=1#frag'],
    ['/emoji/\u{1F600}'],
    ['/[ipv6]|^`{}'],
  ])('normalises %s as the URL parser does', (path) => {
    expect(requestTarget('payments', 'https://api.test', '/v1', path, undefined)).toBe(
      viaUrl('https://api.test', '/v1', path),
    );
  });

  it('sends own query keys only (nothing inherited)', () => {
    const query = Object.assign(Object.create({ inherited: 'x' }) as Record<string, string>, {
      own: 'y',
    });
    expect(requestTarget('payments', 'https://api.test', '', '/search', query)).toBe(
      '/search?own=y',
    );
  });

  it('encodes query keys and values as URLSearchParams does', () => {
    const query = {
      plain: 'abc-._*',
      space: 'a b',
      marks: "!'()~",
      reserved: '&=+?#/%',
      unicode: 'ä€\u{1F600}',
      lone: '\uD800x',
      'k y&': 'v',
      n: 0,
      b: true,
      many: ['x y', 'z'],
    };
    expect(requestTarget('payments', 'https://api.test', '/v1', '/search', query)).toBe(
      viaUrl('https://api.test', '/v1', '/search', query),
    );
  });
});

describe('requestHeaders', () => {
  it('lower-cases names and lets the call win over the client and the default accept', () => {
    const headers = requestHeaders(
      clientOptions({ headers: { 'X-Api-Version': '1', Accept: 'text/plain', 'X-Team': 'pay' } }),
      { headers: { 'x-api-version': '2' } },
    );
    expect(headers).toEqual({ accept: 'text/plain', 'x-api-version': '2', 'x-team': 'pay' });
  });

  it('asks for JSON by default', () => {
    expect(requestHeaders(clientOptions(), {})).toEqual({ accept: 'application/json, */*;q=0.5' });
  });

  it('propagates trace and correlation, never user, tenant or causation to a third party', () => {
    const headers = inContext(() => requestHeaders(clientOptions(), {}));
    expect(headers).toMatchObject({
      traceparent: `00-${store.traceId}-${store.spanId}-01`,
      [CONTEXT_HEADERS.correlationId]: 'corr-1',
    });
    expect(Object.keys(headers)).toEqual(
      expect.not.arrayContaining([
        CONTEXT_HEADERS.userId,
        CONTEXT_HEADERS.tenantId,
        CONTEXT_HEADERS.causationId,
      ]),
    );
  });

  it('sends no context headers with propagateContext: false', () => {
    const headers = inContext(() => requestHeaders(clientOptions({ propagateContext: false }), {}));
    expect(Object.keys(headers)).toEqual(['accept']);
  });

  it("sets the bearer token it is given, and a call's own authorization header wins", () => {
    const auth: HttpClientAuth = { type: 'bearer', tokenProvider: () => 'unused' };
    expect(requestHeaders(clientOptions({ auth }), {}, 'tok-1').authorization).toBe('Bearer tok-1');
    expect(
      requestHeaders(clientOptions({ auth }), { headers: { Authorization: 'Basic x' } }, 'tok-1')
        .authorization,
    ).toBe('Basic x');
  });

  it.each([
    ['caller-token', 'Bearer caller-token'],
    ['Bearer abc', 'Bearer abc'],
    ['bearer abc', 'bearer abc'],
  ])('forwards the caller token %s as %s', (token, expected) => {
    const auth: HttpClientAuth = { type: 'forward', from: () => token };
    expect(requestHeaders(clientOptions({ auth }), {}).authorization).toBe(expected);
  });

  it('sends no authorization when there is no caller token to forward', () => {
    const auth: HttpClientAuth = { type: 'forward', from: () => undefined };
    expect(requestHeaders(clientOptions({ auth }), {})).not.toHaveProperty('authorization');
  });

  it('lets idempotencyKey win over an Idempotency-Key header of the call', () => {
    const headers = requestHeaders(clientOptions(), {
      headers: { 'Idempotency-Key': 'from-header' },
      idempotencyKey: 'from-option',
    });
    expect(headers['idempotency-key']).toBe('from-option');
  });
});

describe('isIdempotent', () => {
  it.each(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])('retries %s without a key', (method) => {
    expect(isIdempotent(method, {})).toBe(true);
  });

  it.each(['POST', 'PATCH'])('does not retry %s without a key', (method) => {
    expect(isIdempotent(method, { accept: 'application/json' })).toBe(false);
  });

  it('retries a POST that carries an idempotency key (header names are lower-cased before)', () => {
    const headers = requestHeaders(clientOptions(), { headers: { 'Idempotency-Key': 'k-1' } });
    expect(isIdempotent('POST', headers)).toBe(true);
  });
});

describe('encodeBody', () => {
  it('sends objects as JSON with a JSON content type', () => {
    const headers: Record<string, string> = {};
    expect(encodeBody({ amount: 5 }, headers)).toBe('{"amount":5}');
    expect(headers['content-type']).toBe('application/json');
  });

  it('keeps a content type the call set', () => {
    const headers: Record<string, string> = { 'content-type': 'application/merge-patch+json' };
    encodeBody({ amount: 5 }, headers);
    expect(headers['content-type']).toBe('application/merge-patch+json');
  });

  it.each([
    ['a string', 'plain text'],
    ['bytes', new Uint8Array([1, 2, 3])],
  ])('sends %s as they are, without a content type', (_kind, body) => {
    const headers: Record<string, string> = {};
    expect(encodeBody(body, headers)).toBe(body);
    expect(headers).toEqual({});
  });

  it('sends no body and no content type for undefined', () => {
    const headers: Record<string, string> = {};
    expect(encodeBody(undefined, headers)).toBeUndefined();
    expect(headers).toEqual({});
  });
});

describe('isRetryableStatus', () => {
  it.each([
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [501, false],
    [400, false],
    [404, false],
    [409, false],
    [422, false],
  ])('status %i: retryable %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });
});

describe('isJson', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/problem+json',
    'application/vnd.api+json',
  ])('reads %s as JSON', (contentType) => {
    expect(isJson(contentType)).toBe(true);
  });

  it.each(['text/plain', 'text/html; charset=utf-8', 'application/xml', ''])(
    'reads "%s" as text',
    (contentType) => {
      expect(isJson(contentType)).toBe(false);
    },
  );

  it('uses the first of repeated content-type headers and treats none as text', () => {
    expect(isJson(['application/json', 'text/plain'])).toBe(true);
    expect(isJson(undefined)).toBe(false);
  });

  it('answers each of alternating content types right (the last answer is kept)', () => {
    const seen = ['application/json', 'text/plain', 'text/plain', 'application/problem+json'].map(
      (ct) => isJson(ct),
    );
    expect(seen).toEqual([true, false, false, true]);
    expect(isJson(undefined)).toBe(false);
  });
});

describe('responseOf', () => {
  const json = { 'content-type': 'application/json' };

  it('parses a JSON 2xx, keeps other bodies as text and an empty one as undefined', () => {
    expect(responseOf(info, 200, json, '{"id":7}').body).toEqual({ id: 7 });
    expect(responseOf(info, 200, { 'content-type': 'text/plain' }, '{"id":7}').body).toBe(
      '{"id":7}',
    );
    expect(responseOf(info, 204, json, '').body).toBeUndefined();
  });

  it('fails a 2xx whose body is not the JSON its content type claims', () => {
    const error = thrown(() => responseOf(info, 200, json, '{"id":'));
    expect(error).toBeInstanceOf(HttpClientResponseValidationError);
    expect((error as Error).message).toBe(
      'payments: GET https://api.test/v1/orders?token=***&id=7 answered 200 with an unexpected body: (root) is not valid JSON although content-type says so',
    );
  });

  it.each([
    [503, true, true],
    [500, true, true],
    [501, false, true],
    [429, true, false],
    [408, true, false],
    [404, false, false],
    [409, false, false],
    [302, false, false],
  ])(
    'status %i: HttpClientError, retryable %s, counted by the breaker %s',
    (status, retryable, counts) => {
      const error = thrown(() => responseOf(info, status, json, '{}'));
      expect(error).toBeInstanceOf(HttpClientError);
      expect(error).toMatchObject({ status, retryable, countsAsFailure: counts, httpStatus: 502 });
    },
  );

  it('carries Retry-After in milliseconds', () => {
    const error = thrown(() => responseOf(info, 429, { 'retry-after': '2' }, ''));
    expect(error).toMatchObject({ retryAfterMs: 2000 });
  });

  it('leaves problem undefined when an error body is cut or not JSON', () => {
    const cut = thrown(() => responseOf(info, 500, json, '{"title":"Bro'));
    const text = thrown(() => responseOf(info, 500, { 'content-type': 'text/html' }, '<h1>x</h1>'));
    expect((cut as HttpClientError).problem).toBeUndefined();
    expect((text as HttpClientError).problem).toBeUndefined();
  });

  it('names a short problem title in the message, never a long one', () => {
    const short = thrown(() => responseOf(info, 409, json, '{"title":"Already paid"}'));
    const long = thrown(() =>
      responseOf(info, 409, json, JSON.stringify({ title: 'x'.repeat(201) })),
    );
    expect((short as Error).message).toBe(
      'payments: GET https://api.test/v1/orders?token=***&id=7 answered 409 (Already paid)',
    );
    expect((long as Error).message).toBe(
      'payments: GET https://api.test/v1/orders?token=***&id=7 answered 409',
    );
  });

  it('keeps the problem off enumerable properties, so logging the error skips the body', () => {
    const error = thrown(() =>
      responseOf(info, 402, json, '{"title":"Declined","detail":"card 4242"}'),
    ) as HttpClientError;
    expect(error.problem).toEqual({ title: 'Declined', detail: 'card 4242' });
    expect(Object.keys(error)).not.toContain('problem');
  });
});

describe('callInfo', () => {
  it('masks secret query parameters in the URL errors and logs carry', () => {
    const masked = callInfo('payments', 'POST', 'https://api.test', '/pay?api_key=k&sig=s&id=1');
    expect(masked).toMatchObject({ client: 'payments', method: 'POST' });
    expect(masked.url).toBe('https://api.test/pay?api_key=***&sig=***&id=1');
  });

  it('shows the origin only with redactPaths (credentials in the path)', () => {
    const redacted = callInfo(
      'webhook:hooks.slack.test',
      'POST',
      'https://hooks.slack.test',
      '/services/T000/B000/XXXXSECRET?x=1',
      true,
    );
    expect(redacted.url).toBe('https://hooks.slack.test/…');
  });

  it('gives the same masked URL on every read', () => {
    expect(info.url).toBe(info.url);
    expect(info.url).toBe('https://api.test/v1/orders?token=***&id=7');
  });

  it('serialises with the masked URL only (never the raw target)', () => {
    expect(JSON.parse(JSON.stringify(info))).toEqual({
      client: 'payments',
      method: 'GET',
      url: 'https://api.test/v1/orders?token=***&id=7',
    });
  });
});

describe('validateBody', () => {
  const ok = { status: 200, headers: {}, body: { amount: '10', currency: 'EUR' } };

  it("returns the schema's output (coercions and transforms applied)", () => {
    const schema = z.object({ amount: z.string().transform(Number), currency: z.string() });
    expect(validateBody(ok, schema, info).body).toEqual({ amount: 10, currency: 'EUR' });
  });

  it('lists every issue by dotted path, never with the values', () => {
    const schema = z.object({
      lines: z.array(z.object({ qty: z.number() })),
      currency: z.string(),
    });
    const body = { lines: [{ qty: 1 }, { qty: 'SECRET-VALUE' }], currency: 5 };
    const error = thrown(() =>
      validateBody({ ...ok, body }, schema, info),
    ) as HttpClientResponseValidationError;
    expect(error).toBeInstanceOf(HttpClientResponseValidationError);
    expect(error.issues.map((i) => i.path)).toEqual(['lines.1.qty', 'currency']);
    expect(error.message).toMatch(
      /answered 200 with an unexpected body: lines\.1\.qty .* \(\+1 more\)$/,
    );
    expect(JSON.stringify({ message: error.message, issues: error.issues })).not.toContain(
      'SECRET-VALUE',
    );
  });

  it('names the root when the whole body is wrong', () => {
    const error = thrown(() =>
      validateBody({ ...ok, body: undefined }, z.object({ id: z.number() }), info),
    ) as HttpClientResponseValidationError;
    expect(error.issues[0]!.path).toBe('');
    expect(error.message).toContain('unexpected body: (root) ');
  });
});

describe('outcomeOf', () => {
  it.each([
    ['CircuitOpenError', new CircuitOpenError('payments'), 'circuit_open'],
    ['BulkheadFullError', new BulkheadFullError('payments', 1, 1), 'rejected'],
    ['OperationTimeoutError', new OperationTimeoutError('payments', 'total', 10), 'timeout'],
    ['HttpClientTimeoutError', new HttpClientTimeoutError(info, 'attempt', 10), 'timeout'],
    ['HttpClientError', new HttpClientError(info, 503, undefined, true, true), 'error'],
    ['Error', new Error('boom'), 'error'],
    ['a thrown string', 'boom', 'error'],
  ])('counts %s as %s', (_name, error, outcome) => {
    expect(outcomeOf(error)).toBe(outcome);
  });
});

describe('readBody', () => {
  it('joins chunks before decoding, so a character split across chunks survives', async () => {
    const body = Readable.from([Buffer.from('caf'), Buffer.from([0xc3]), Buffer.from([0xa9])]);
    await expect(readBody(body, 100, false)).resolves.toBe('café');
  });

  it('fails a body beyond the limit and drops the stream', async () => {
    const body = Readable.from([Buffer.from('12345'), Buffer.from('67890'), Buffer.from('x')]);
    const error = await readBody(body, 8, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyTooLarge);
    expect((error as Error).message).toBe('body larger than 8 bytes');
    expect(body.destroyed).toBe(true);
  });

  it('cuts an error body at the limit (whole chunks) and drops the stream', async () => {
    const body = Readable.from([Buffer.from('12345'), Buffer.from('67890'), Buffer.from('x')]);
    await expect(readBody(body, 8, true)).resolves.toBe('12345');
    expect(body.destroyed).toBe(true);
  });

  it('reads a body of exactly the limit', async () => {
    const body = Readable.from([Buffer.from('1234'), Buffer.from('5678')]);
    await expect(readBody(body, 8, false)).resolves.toBe('12345678');
  });

  it('passes a stream error on', async () => {
    const body = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    await expect(readBody(body, 8, false)).rejects.toThrow('socket hang up');
  });
});
