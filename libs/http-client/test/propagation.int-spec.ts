import { Controller, Get, Module } from '@nestjs/common';
import { MonitoringModule } from '@infrastructure/monitoring';
import {
  createTestApp,
  testMonitoringOptions,
  type TestApp,
  TestHttpServer,
} from '@infrastructure/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, InjectHttpClient, HttpClientModule } from '../src/index.js';

@Controller('checkout')
class CheckoutController {
  constructor(@InjectHttpClient('payments') private readonly payments: HttpClient) {}

  @Get()
  async checkout(): Promise<unknown> {
    return (await this.payments.get('/quote')).body;
  }
}

@Module({ controllers: [CheckoutController] })
class CheckoutModule {}

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

// An incoming request's trace and correlation id reach the outbound call's server, on both HTTP
// adapters (the monitoring lib sets the request context on Express and on Fastify).
describe.each(['express', 'fastify'] as const)('context propagation through %s', (adapter) => {
  let server: TestHttpServer;
  let t: TestApp;

  beforeAll(async () => {
    server = await TestHttpServer.start();
    server.handle((_req, res) => TestHttpServer.json(res, 200, { amountCents: 100 }));
    t = await createTestApp(
      {
        imports: [
          MonitoringModule.forRoot(testMonitoringOptions()),
          HttpClientModule.forRoot({ clients: { payments: { baseUrl: server.url } } }),
          CheckoutModule,
        ],
      },
      { adapter },
    );
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
  });

  it(`sends the incoming traceparent's trace id and x-correlation-id on (${adapter})`, async () => {
    const seen = server.nextRequest();
    const res = await t.request
      .get('/checkout')
      .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
      .set('x-correlation-id', `corr-${adapter}`)
      .expect(200);
    expect(res.body).toEqual({ amountCents: 100 });
    const { headers } = await seen;
    expect(headers['x-correlation-id']).toBe(`corr-${adapter}`);
    expect(headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it(`generates a correlation id for a request that came without one (${adapter})`, async () => {
    const seen = server.nextRequest();
    const res = await t.request.get('/checkout').expect(200);
    const { headers } = await seen;
    expect(headers['x-correlation-id']).toMatch(/^[\w-]{8,}$/);
    expect(headers['x-correlation-id']).toBe(res.headers['x-correlation-id']);
  });
});
