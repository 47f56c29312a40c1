import type { ServerResponse } from 'node:http';
import { ClsServiceManager } from 'nestjs-cls';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  BulkheadFullError,
  CircuitOpenError,
  HttpClient,
  HttpClientError,
  HttpClientNetworkError,
  HttpClientRequestError,
  HttpClientResponseValidationError,
  HttpClientTimeoutError,
  type HttpClientOptions,
} from '../src/index.js';
import { resolveHttpClientOptions } from '../src/http-client.options.js';
import { TestHttpServer } from '@infrastructure/testing';

let server: TestHttpServer;
const clients: HttpClient[] = [];

/** A client of the test server; retries are fast unless the test says otherwise. */
function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  const c = new HttpClient(
    resolveHttpClientOptions('payments', {
      baseUrl: `${server.url}/api`,
      retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
      ...options,
    }),
  );
  clients.push(c);
  return c;
}

/** Answers the requests in turn with these statuses (the last one repeats). */
function statuses(...list: Array<number | [number, Record<string, string>]>): void {
  let i = 0;
  server.handle((_req, res) => {
    const next = list[Math.min(i++, list.length - 1)]!;
    const [status, headers] = Array.isArray(next) ? next : [next, {}];
    TestHttpServer.json(res, status, { n: i }, headers);
  });
}

beforeAll(async () => {
  server = await TestHttpServer.start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
});

beforeEach(() => server.reset());

describe('HttpClient', () => {
  it('retries a GET answered 503 and returns the answer that follows', async () => {
    statuses(503, 502, 200);
    const res = await client().get<{ n: number }>('/orders', { query: { page: 2 } });
    expect(res).toMatchObject({ status: 200, body: { n: 3 } });
    expect(server.hits).toBe(3);
    expect(server.requests[0]!.url).toBe('/api/orders?page=2');
  });

  it('stops after maxAttempts retries with an HttpClientError', async () => {
    statuses(503);
    const error = await client()
      .get('/orders')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpClientError);
    expect(error).toMatchObject({ status: 503, client: 'payments', method: 'GET' });
    expect(server.hits).toBe(3);
  });

  it('does not retry a POST without an idempotency key', async () => {
    statuses(503, 200);
    await expect(client().post('/payments', { body: { amount: 5 } })).rejects.toBeInstanceOf(
      HttpClientError,
    );
    expect(server.hits).toBe(1);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ amount: 5 });
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('retries a POST that carries an Idempotency-Key', async () => {
    statuses(503, 201);
    const res = await client().post('/payments', { body: { amount: 5 }, idempotencyKey: 'k-1' });
    expect(res.status).toBe(201);
    expect(server.requests.map((r) => r.headers['idempotency-key'])).toEqual(['k-1', 'k-1']);
  });

  it('does not retry a 404', async () => {
    statuses(404, 200);
    await expect(client().get('/missing')).rejects.toMatchObject({ status: 404 });
    expect(server.hits).toBe(1);
  });

  it('waits the Retry-After the server asks for', async () => {
    const at: number[] = [];
    let i = 0;
    server.handle((_req, res) => {
      at.push(performance.now());
      if (i++ === 0) TestHttpServer.json(res, 429, {}, { 'retry-after': '1' });
      else TestHttpServer.json(res, 200, { ok: true });
    });
    await expect(client().get('/rate-limited')).resolves.toMatchObject({ status: 200 });
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
  });

  it('caps a long Retry-After at maxRetryAfterMs', async () => {
    const at: number[] = [];
    let i = 0;
    server.handle((_req, res) => {
      at.push(performance.now());
      if (i++ === 0) TestHttpServer.json(res, 503, {}, { 'retry-after': '3600' });
      else TestHttpServer.json(res, 200, {});
    });
    const c = client({ retry: { maxAttempts: 1, maxRetryAfterMs: 100 } });
    await expect(c.get('/busy')).resolves.toMatchObject({ status: 200 });
    expect(at[1]! - at[0]!).toBeLessThan(1000);
  });

  it('times out an attempt to a server that never answers and aborts the socket', async () => {
    const closed = new Promise<void>((resolve) =>
      server.handle((_req, res) => {
        res.on('close', () => resolve());
        server.hang(res);
      }),
    );
    const started = performance.now();
    const error = await client({ attemptTimeoutMs: 200, retry: false })
      .get('/slow')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpClientTimeoutError);
    expect(error).toMatchObject({ kind: 'attempt', timeoutMs: 200, httpStatus: 504 });
    expect(performance.now() - started).toBeLessThan(2000);
    await closed;
  });

  it('bounds the whole call with timeoutMs, retries included', async () => {
    server.handle((_req, res) => server.hang(res));
    const started = performance.now();
    const error = await client({ timeoutMs: 300, attemptTimeoutMs: 200 })
      .get('/slow')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'HttpClientTimeoutError', kind: 'total', timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('opens the breaker after N failures, then fails fast without calling the server', async () => {
    statuses(500);
    const c = client({
      retry: false,
      circuitBreaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 },
    });
    for (let i = 0; i < 3; i++) await expect(c.get('/x')).rejects.toBeInstanceOf(HttpClientError);
    expect(c.circuitState).toBe('open');
    const error = await c.get('/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ httpStatus: 503 });
    expect(server.hits).toBe(3);

    // After halfOpenAfterMs one probe goes through; its success closes the breaker.
    statuses(200);
    await vi.waitFor(
      async () =>
        expect((await c.get('/x').catch((e: unknown) => e)) as object).toMatchObject({
          status: 200,
        }),
      { timeout: 3000, interval: 50 },
    );
    expect(c.circuitState).toBe('closed');
    expect(server.hits).toBe(4);
  });

  it('rejects calls beyond the bulkhead (running + queued) with BulkheadFullError', async () => {
    const held: ServerResponse[] = [];
    server.handle((_req, res) => held.push(res));
    const c = client({ retry: false, bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    const arrived = server.nextRequest();
    const first = c.get('/a');
    const second = c.get('/b');
    await arrived;
    const error = await c.get('/c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadFullError);
    expect(error).toMatchObject({ httpStatus: 503 });
    const secondArrived = server.nextRequest();
    TestHttpServer.json(held[0]!, 200, {});
    await secondArrived;
    TestHttpServer.json(held[1]!, 200, {});
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    expect(server.hits).toBe(2);
  });

  it('sends traceparent and the correlation id of the current context', async () => {
    statuses(200);
    const cls = ClsServiceManager.getClsService();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    await cls.runWith({ correlationId: 'corr-42', traceId, spanId } as never, () =>
      client().get('/traced'),
    );
    const headers = server.requests[0]!.headers;
    expect(headers['x-correlation-id']).toBe('corr-42');
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it('adds the bearer token of the token provider', async () => {
    statuses(200);
    let calls = 0;
    await client({ auth: { type: 'bearer', tokenProvider: async () => `tok-${++calls}` } }).get(
      '/me',
    );
    expect(server.requests[0]!.headers.authorization).toBe('Bearer tok-1');
  });

  it('forwards the caller bearer when asked to', async () => {
    statuses(200);
    await client({ auth: { type: 'forward', from: () => 'caller-token' } }).get('/me');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer caller-token');
  });

  it('reuses keep-alive connections', async () => {
    statuses(200);
    const c = client();
    for (let i = 0; i < 10; i++) await c.get('/ping');
    expect(server.hits).toBe(10);
    // One socket, sometimes two: undici may open a second before the first is back in the pool.
    expect(server.sockets).toBeLessThanOrEqual(2);
  });

  it('validates the body with a zod schema and fails with a typed error', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 200, { id: 7, amount: 'ten' }));
    const schema = z.object({ id: z.number(), amount: z.number() });
    const error = await client()
      .get('/payments/7', { schema })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpClientResponseValidationError);
    expect((error as HttpClientResponseValidationError).issues[0]!.path).toBe('amount');
    expect((error as Error).message).not.toContain('ten');
    server.handle((_req, res) => TestHttpServer.json(res, 200, { id: 7, amount: 10 }));
    const ok = await client().get('/payments/7', { schema });
    expect(ok.body.amount).toBe(10);
  });

  it('parses a problem+json answer and masks query secrets in the message', async () => {
    const problem = {
      type: 'about:blank',
      title: 'Card declined',
      status: 402,
      detail: 'no funds',
    };
    server.handle((_req, res) => {
      res.writeHead(402, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify(problem));
    });
    const error = (await client()
      .get('/charge', { query: { token: 's3cr3t', api_key: 'k3y', id: 9 } })
      .catch((e: unknown) => e)) as HttpClientError;
    expect(error).toBeInstanceOf(HttpClientError);
    expect(error.problem).toEqual(problem);
    expect(error.url).toBe(`${server.url}/api/charge?token=***&api_key=***&id=9`);
    expect(error.message).toContain('answered 402 (Card declined)');
    expect(error.message).not.toMatch(/s3cr3t|k3y/);
    expect(JSON.stringify(error)).not.toContain('no funds');
  });

  it('retries network errors and then fails with HttpClientNetworkError', async () => {
    const dead = await TestHttpServer.start();
    const url = dead.url;
    await dead.close();
    const c = new HttpClient(
      resolveHttpClientOptions('dead', {
        baseUrl: url,
        retry: { maxAttempts: 1, initialDelayMs: 5, maxDelayMs: 5 },
      }),
    );
    clients.push(c);
    const error = await c.get('/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpClientNetworkError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', client: 'dead' });
  });

  it('does not retry a request undici refuses to send (an invalid header), nor count it against the breaker', async () => {
    statuses(200);
    const c = client({ retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 5 } });
    for (let i = 0; i < 8; i++) {
      const error = await c
        .get('/x', { headers: { 'x-note': 'line\r\nInjected: 1' } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpClientRequestError);
      expect(error).toMatchObject({ retryable: false, countsAsFailure: false, client: 'payments' });
    }
    expect(server.hits).toBe(0);
    expect(c.circuitState).toBe('closed');
    await expect(c.get('/x')).resolves.toMatchObject({ status: 200 });
  });

  it('answers with the fallback when a call fails for good', async () => {
    statuses(503);
    const c = client({
      retry: false,
      fallback: (error) => ({
        status: 200,
        headers: {},
        body: { fallback: (error as Error).name },
      }),
    });
    await expect(c.get('/x')).resolves.toMatchObject({ body: { fallback: 'HttpClientError' } });
  });

  it('blockPrivateNetworks refuses a private IP literal and a name resolving to one, without a call or retry', async () => {
    statuses(200);
    const port = new URL(server.url).port;
    for (const baseUrl of [server.url, `http://localhost:${port}`]) {
      const c = client({ baseUrl, blockPrivateNetworks: true });
      const error = await c.get('/x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpClientNetworkError);
      expect(error).toMatchObject({ code: 'EPRIVATE', retryable: false });
    }
    expect(server.hits).toBe(0);
    await expect(client({ blockPrivateNetworks: false }).get('/x')).resolves.toMatchObject({
      status: 200,
    });
  });
});
