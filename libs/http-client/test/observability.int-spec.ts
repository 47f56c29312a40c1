import { MonitoringModule } from '@infrastructure/monitoring';
import {
  createTestApp,
  testMonitoringOptions,
  type TestApp,
  TestHttpServer,
} from '@infrastructure/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClientError, HttpClients, HttpClientModule } from '../src/index.js';

let server: TestHttpServer;
let t: TestApp;
const lines: string[] = [];

beforeAll(async () => {
  server = await TestHttpServer.start();
  t = await createTestApp({
    imports: [
      MonitoringModule.forRoot(
        testMonitoringOptions({
          logging: { level: 'debug', destination: { write: (l: string) => void lines.push(l) } },
        }),
      ),
      HttpClientModule.forRoot({
        clients: {
          payments: {
            baseUrl: server.url,
            retry: { maxAttempts: 1, initialDelayMs: 5, maxDelayMs: 5 },
            circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
          },
          ledger: { baseUrl: server.url, healthUrl: '/health' },
        },
      }),
    ],
  });
});

afterAll(async () => {
  await t?.close();
  await server.close();
});

beforeEach(() => server.reset());

async function metrics(): Promise<string> {
  return (await t.request.get('/metrics').expect(200)).text;
}

describe('HttpClientModule with MonitoringModule', () => {
  it('exports circuit_breaker_state for every client from boot', async () => {
    const text = await metrics();
    expect(text).toContain('circuit_breaker_state{client="payments"} 0');
    expect(text).toContain('circuit_breaker_state{client="ledger"} 0');
  });

  it('reports each client in readiness: breaker closed, health URL pinged', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 200, { status: 'ok' }));
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details['http:payments']).toMatchObject({ status: 'up', circuit: 'closed' });
    expect(ready.body.details['http:ledger']).toMatchObject({
      status: 'up',
      circuit: 'closed',
      answered: 200,
    });
    expect(server.requests.map((r) => r.url)).toEqual(['/health']);
  });

  it('shows a failing health URL as degraded (non-critical), readiness stays 200', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 500, {}));
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details['http:ledger']).toMatchObject({ status: 'degraded' });
    expect(ready.body.details['http:ledger'].reason).toContain('answered 500');
  });

  it('counts calls by client, method, status and outcome, with durations', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 200, {}));
    const payments = t.app.get(HttpClients).get('payments');
    await payments.get('/ok');
    await payments.get('/ok');
    const text = await metrics();
    expect(text).toContain(
      'http_client_requests_total{client="payments",method="GET",status_code="200",outcome="success"} 2',
    );
    expect(text).toMatch(/http_client_request_duration_seconds_count\{client="payments"\} [2-9]/);
  });

  it('masks query secrets in errors and logs, and never logs bodies or Authorization', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 503, { detail: 'body-secret-xyz' }));
    const ledger = t.app.get(HttpClients).get('ledger');
    const error = await ledger
      .get('/charge', {
        query: { token: 'tok-s3cr3t', signature: 'sig-s3cr3t' },
        headers: { authorization: 'Bearer auth-s3cr3t' },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpClientError);
    expect((error as Error).message).toContain('token=***&signature=***');
    const logs = lines.join('\n');
    expect(logs).toContain('token=***');
    expect(logs).toContain('attempt 1 failed');
    expect(logs).not.toMatch(/s3cr3t|body-secret-xyz/);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer auth-s3cr3t');
  });

  it('shows an open breaker in metrics (2), in health as degraded, and counts circuit_open', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 500, {}));
    const payments = t.app.get(HttpClients).get('payments');
    await payments.get('/down').catch(() => undefined);
    await payments.get('/down').catch(() => undefined);
    expect(payments.circuitState).toBe('open');
    await expect(payments.get('/down')).rejects.toMatchObject({ name: 'CircuitOpenError' });

    const text = await metrics();
    expect(text).toContain('circuit_breaker_state{client="payments"} 2');
    expect(text).toContain(
      'http_client_requests_total{client="payments",method="GET",status_code="none",outcome="circuit_open"} 1',
    );
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details['http:payments']).toMatchObject({
      status: 'degraded',
      circuit: 'open',
    });
    expect(lines.join('\n')).toContain('circuit open');
  });
});
