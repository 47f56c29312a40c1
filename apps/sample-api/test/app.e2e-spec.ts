import { describe, expect, it } from 'vitest';
import { createTestApp } from '@infrastructure/testing';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';

const env = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  LOG_PRETTY: 'false',
  DATABASE_URL: 'sqlite::memory:',
};

/** The class names of an app's global pipes. */
function pipes(t: { app: unknown }): string[] {
  return (t.app as { config: { getGlobalPipes(): object[] } }).config
    .getGlobalPipes()
    .map((pipe) => pipe.constructor.name);
}

describe.each(['express', 'fastify'] as const)('sample API on %s', (adapter) => {
  const start = () =>
    createTestApp(
      { imports: [AppModule.forRoot({ env, envFiles: false })] },
      { adapter, configure: configureApp },
    );

  it('has helmet headers and the global ValidationPipe unless configureApp is told otherwise', async () => {
    await using full = await start();
    const on = await full.request.get('/health/live').expect(200);
    expect(on.headers['content-security-policy']).toContain("default-src 'self'");
    expect(pipes(full)).toEqual(['SafeValidationPipe']); // createValidationPipe()'s
    await using bare = await createTestApp(
      { imports: [AppModule.forRoot({ env, envFiles: false })] },
      {
        adapter,
        configure: (app) => configureApp(app, { securityHeaders: false, validation: false }),
      },
    );
    const off = await bare.request.get('/health/live').expect(200);
    expect(off.headers['content-security-policy']).toBeUndefined();
    expect(off.headers['x-correlation-id']).toBeDefined(); // the rest of the contract stays
    expect(pipes(bare)).toEqual([]);
  });

  it('answers liveness with 200', async () => {
    await using t = await start();
    const res = await t.request.get('/health/live').expect(200);
    expect(res.body).toMatchObject({ status: 'ok' });
  });

  it('serves a valid OpenAPI 3 document at /docs-json and the UI at /docs', async () => {
    await using t = await start();
    const res = await t.request.get('/docs-json').set('x-correlation-id', 'docs-1').expect(200);
    expect(res.headers['x-correlation-id']).toBe('docs-1'); // observed like every route
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.info.title).toBe('sample-api');
    expect(Object.keys(res.body.paths)).toContain('/health/live');
    const ui = await t.request.get('/docs').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('documents what the API checks: bounds, formats, optional headers, who needs a token', async () => {
    await using t = await start();
    const doc = (await t.request.get('/docs-json').expect(200)).body;
    expect(doc.components.schemas.PlaceOrderDto.properties).toMatchObject({
      customerId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
      sku: { type: 'string', maxLength: 64 },
      quantity: { type: 'integer', minimum: 1, maximum: 1000 },
      unitPriceCents: { type: 'integer', minimum: 0, maximum: 10_000_000 },
    });
    for (const path of ['/v1/orders/{id}', '/v1/orders/{id}/events', '/v1/orders/{id}/cancel']) {
      const op = doc.paths[path].get ?? doc.paths[path].post;
      expect(op.parameters).toContainEqual(
        expect.objectContaining({
          name: 'id',
          in: 'path',
          schema: { type: 'string', format: 'uuid' },
        }),
      );
    }
    const token = doc.paths['/v1/auth/token'].post;
    expect(token.parameters ?? []).not.toContainEqual(
      expect.objectContaining({ name: 'authorization', required: true }),
    );
    expect(doc.paths['/v1/customers/{customerId}/order-summary'].get.security).toEqual([
      { bearer: [] },
    ]);
  });

  it('answers unknown routes with a 404 problem body', async () => {
    await using t = await start();
    const res = await t.request.get('/no/such/route?token=x').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      instance: '/no/such/route',
    });
  });

  it('answers malformed JSON with a 400 problem body, not a 500', async () => {
    await using t = await start();
    const res = await t.request
      .post('/')
      .set('content-type', 'application/json')
      .send('{"broken": ')
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js:\d+/);
  });

  it('is ready, and exposes RED metrics labelled by route template', async () => {
    await using t = await start();
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.info.shutdown.status).toBe('up');
    expect(ready.body.info.database).toMatchObject({ status: 'up', type: 'better-sqlite3' });
    await t.request
      .get('/')
      .set('x-correlation-id', 'e2e-1')
      .expect(200)
      .expect('x-correlation-id', 'e2e-1');
    const metrics = await t.request.get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /http_server_requests_total\{method="GET",route="\/",status_code="200"\}/,
    );
  });

  it('describes what is running at /', async () => {
    await using t = await start();
    const res = await t.request.get('/').expect(200);
    expect(res.body).toMatchObject({ service: 'sample-api', environment: 'test' });
  });
});
