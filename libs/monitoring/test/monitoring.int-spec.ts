import { spawnSync } from 'node:child_process';
import { Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { HealthDegradedError, HealthRegistry, MetricsService } from '@infrastructure/monitoring';
import { monitoredApp } from './helpers.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe.each(['express', 'fastify'] as const)('MonitoringModule on %s', (adapter) => {
  describe('correlation ids and logs', () => {
    it('echoes a valid incoming correlation id and puts it on every log line of the request', async () => {
      const { t, logs } = await monitoredApp(adapter);
      await using _ = t;
      const res = await t.request
        .get('/t/items/42')
        .set('x-correlation-id', 'order-flow:42')
        .set('traceparent', TRACEPARENT)
        .expect(200);
      expect(res.headers['x-correlation-id']).toBe('order-flow:42');
      const deep = logs.records.find((r) => r.msg === 'deep work done');
      expect(deep).toMatchObject({
        correlationId: 'order-flow:42',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        itemId: '42',
        context: 'DeepService',
      });
    });

    it('takes x-request-id too, and replaces oversized or unsafe ids with a fresh UUID', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      expect(
        (await t.request.get('/t/items/1').set('x-request-id', 'req-7')).headers[
          'x-correlation-id'
        ],
      ).toBe('req-7');
      for (const bad of ['x'.repeat(129), 'a b', '<script>', 'id;drop']) {
        const res = await t.request.get('/t/items/1').set('x-correlation-id', bad).expect(200);
        expect(res.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
      const fresh = await t.request.get('/t/items/1').expect(200);
      expect(fresh.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('ignores a malformed traceparent', async () => {
      const { t, logs } = await monitoredApp(adapter);
      await using _ = t;
      await t.request.get('/t/items/9').set('traceparent', '00-zz-bad-01').expect(200);
      expect(logs.records.find((r) => r.msg === 'deep work done')?.traceId).toBeUndefined();
    });

    it('writes one access line per request with method, route template, status, duration and correlation id', async () => {
      const { t, logs } = await monitoredApp(adapter);
      await using _ = t;
      await t.request
        .get('/t/items/77?token=secret-query')
        .set('x-correlation-id', 'acc-1')
        .expect(200);
      const access = logs.records.filter(
        (r) => r.route !== undefined && r.durationMs !== undefined,
      );
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({
        level: 'info',
        route: '/t/items/:id',
        correlationId: 'acc-1',
        method: 'GET',
        path: '/t/items/77',
        statusCode: 200,
      });
      expect(typeof access[0]!.durationMs).toBe('number');
      expect(logs.text).not.toContain('secret-query');
    });

    it('keeps a credential in a path segment out of the access line (secret-named parameter, JWT shape)', async () => {
      const { t, logs } = await monitoredApp(adapter);
      await using _ = t;
      await t.request.get('/t/resets/reset-k3y-in-path').expect(200);
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnLWluLXBhdGg';
      await t.request.get(`/t/items/${jwt}`).expect(200);
      const access = logs.records.filter(
        (r) => r.route !== undefined && r.durationMs !== undefined,
      );
      expect(access.map((r) => [r.route, r.path])).toEqual([
        ['/t/resets/:token', '/t/resets/[REDACTED]'],
        ['/t/items/:id', '/t/items/[REDACTED]'],
      ]);
      // (The probe's own handler logs its id parameter: that line is the application's choice.)
      expect(logs.text).not.toContain('reset-k3y-in-path');
      expect(JSON.stringify(access)).not.toContain('c2lnLWluLXBhdGg');
    });

    it('observes routes registered on the raw adapter before init (Swagger-style): correlation id, RED metrics, access line', async () => {
      const { t, logs } = await monitoredApp(adapter, {}, {}, [], (app) => {
        const http = app.getHttpAdapter();
        http.get('/raw/doc-json', (_req: unknown, res: unknown) =>
          http.reply(res, { openapi: '3.0.0' }, 200),
        );
      });
      await using _ = t;
      const res = await t.request.get('/raw/doc-json').set('x-correlation-id', 'raw-1').expect(200);
      expect(res.headers['x-correlation-id']).toBe('raw-1');
      expect(
        logs.records.filter((r) => r.durationMs !== undefined && r.path === '/raw/doc-json'),
      ).toMatchObject([{ correlationId: 'raw-1', statusCode: 200, route: '/raw/doc-json' }]);
      const metrics = await t.request.get('/metrics').expect(200);
      expect(metrics.text).toMatch(
        /http_server_requests_total\{method="GET",route="\/raw\/doc-json",status_code="200"\} [1-9]/,
      );
    });

    it('answers an undecodable path parameter with a 400 problem whose detail does not quote it', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      const res = await t.request.get('/t/items/%E0%A4%A');
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status: 400,
        detail: 'The request path is not valid percent-encoded UTF-8',
      });
    });

    it('writes no access line for health and metrics endpoints', async () => {
      const { t, logs } = await monitoredApp(adapter);
      await using _ = t;
      await t.request.get('/health/live').expect(200);
      await t.request.get('/metrics').expect(200);
      expect(logs.records.filter((r) => r.durationMs !== undefined)).toEqual([]);
    });

    it('never logs secrets: authorization, cookies, api keys, password/secret/token keys at any depth', async () => {
      const { t, logs } = await monitoredApp(adapter);
      await using _ = t;
      await t.request
        .post('/t/echo')
        .set('authorization', 'Bearer sekret-bearer')
        .set('cookie', 'sid=sekret-cookie')
        .set('x-api-key', 'sekret-apikey')
        .send({
          user: {
            password: 'sekret-pw',
            profile: { apiKey: 'sekret-k2', privateKey: 'sekret-pk' },
          },
          clientSecret: 'sekret-cs',
          tokens: [{ refreshToken: 'sekret-rt' }],
          visible: 'fine',
        })
        .expect(201);
      const line = logs.records.find((r) => r.msg === 'echo body');
      expect(line?.body.visible).toBe('fine');
      expect(line?.body.user.password).toBe('[REDACTED]');
      expect(logs.text).not.toMatch(/sekret-/);
    });

    it('logs a failing handler as an error with the correlation id, body reveals nothing', async () => {
      const { t, logs } = await monitoredApp(adapter);
      await using _ = t;
      const res = await t.request.get('/t/fail').set('x-correlation-id', 'fail-1').expect(500);
      expect(res.body).toMatchObject({ status: 500, correlationId: 'fail-1' });
      expect(res.text).not.toContain('kaboom');
      const access = logs.records.find((r) => r.durationMs !== undefined && r.route === '/t/fail');
      expect(access).toMatchObject({ level: 'error', correlationId: 'fail-1' });
    });
  });

  describe('metrics', () => {
    it('counts requests by route template and keeps scanners under route="unmatched"', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      await t.request.get('/t/items/1').expect(200);
      await t.request.get('/t/items/2').expect(200);
      for (let i = 0; i < 50; i++) await t.request.get(`/wp-admin/${i}/x.php?id=${i}`).expect(404);
      const text = (await t.request.get('/metrics').expect(200)).text;
      expect(text).toMatch(
        /http_server_requests_total\{method="GET",route="\/t\/items\/:id",status_code="200"\} \d+/,
      );
      expect(text).toMatch(
        /http_server_requests_total\{method="GET",route="unmatched",status_code="404"\} \d+/,
      );
      expect(text).not.toMatch(/wp-admin|items\/1"/);
      const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
      // The probe app's own routes (this process's registry keeps earlier tests' series) and
      // `unmatched`, far below the 50 scanner paths.
      expect(routes.size).toBeLessThan(15);
      expect(text).toContain('http_server_request_duration_seconds_bucket');
      expect(text).toContain('http_server_requests_in_flight');
      expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
    });

    it('serves OpenMetrics when asked by Accept', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      const res = await t.request
        .get('/metrics')
        .set('accept', 'application/openmetrics-text; version=1.0.0')
        .expect(200);
      expect(res.headers['content-type']).toContain('application/openmetrics-text');
      expect(res.text.trimEnd().endsWith('# EOF')).toBe(true);
    });

    it('passes promtool check metrics (only prom-client default gauges named *_total are flagged)', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      await t.request.get('/t/items/1').expect(200);
      const text = (await t.request.get('/metrics').expect(200)).text;
      const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(result.error).toBeUndefined();
      // Exit 1 would be a parse error; 3 is lint findings. prom-client's own default metrics
      // nodejs_active_{handles,requests,resources}_total are gauges with a _total suffix.
      expect([0, 3]).toContain(result.status);
      const findings = `${result.stdout}${result.stderr}`
        .split('\n')
        .filter((l) => l.trim() !== '');
      const known =
        /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
      expect(findings.filter((l) => !known.test(l))).toEqual([]);
    });

    it('protects /metrics with basic auth when configured', async () => {
      const { t } = await monitoredApp(adapter, {
        metrics: { auth: { username: 'prom', password: 'scrape-me-please' } },
      });
      await using _ = t;
      const denied = await t.request.get('/metrics').expect(401);
      expect(denied.headers['www-authenticate']).toContain('Basic');
      await t.request.get('/metrics').auth('prom', 'wrong-password').expect(401);
      await t.request.get('/metrics').auth('prom', 'scrape-me-please').expect(200);
    });

    it('in production, keeps /metrics off the app port unless auth, a port or metrics.public says otherwise', async () => {
      const closed = await monitoredApp(adapter, { environment: 'production' });
      await using closedApp = closed.t;
      await closedApp.request.get('/metrics').expect(404);
      expect(closed.logs.records.map((l) => l.msg)).toContainEqual(
        expect.stringContaining('metrics are not served on the app port (production)'),
      );
      const open = await monitoredApp(adapter, {
        environment: 'production',
        metrics: { public: true },
      });
      await using openApp = open.t;
      await openApp.request.get('/metrics').expect(200);
      const guarded = await monitoredApp(adapter, {
        environment: 'production',
        metrics: { auth: { bearerToken: 'a-long-scrape-token' } },
      });
      await using guardedApp = guarded.t;
      await guardedApp.request.get('/metrics').expect(401);
      await guardedApp.request
        .get('/metrics')
        .set('authorization', 'Bearer a-long-scrape-token')
        .expect(200);
    });

    it('serves metrics on a separate port when configured, with bearer protection', async () => {
      const { t } = await monitoredApp(adapter, {
        metrics: { port: 0, host: '127.0.0.1', auth: { bearerToken: 'a-long-scrape-token' } },
      });
      await using _ = t;
      await t.request.get('/metrics').expect(404);
      const { MonitoringModule } = await import('@infrastructure/monitoring');
      const port = t.app.get(MonitoringModule).metricsPort!;
      expect(
        await fetch(`http://127.0.0.1:${port}/metrics`).then(
          async (r) => (await r.text(), r.status),
        ),
      ).toBe(401);
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: 'Bearer a-long-scrape-token' },
      });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('process_cpu_seconds_total');
    });
  });

  describe('health', () => {
    it('keeps liveness to the process: a dead dependency does not fail /health/live', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      t.app.get(HealthRegistry).register('db', () => {
        throw new Error('connection refused');
      });
      const live = await t.request.get('/health/live').expect(200);
      expect(Object.keys(live.body.details)).toEqual(['eventLoop']);
      const ready = await t.request.get('/health/ready').expect(503);
      expect(ready.body.error.db).toEqual({
        status: 'down',
        reason: 'connection refused',
        critical: true,
      });
    });

    it("in production, shows each check's status alone unless the request has the metrics credentials", async () => {
      const plain = await monitoredApp(adapter, { environment: 'production' });
      await using plainApp = plain.t;
      const open = await plainApp.request.get('/health').expect(200);
      expect(Object.values(open.body.details as Record<string, object>)).toEqual(
        expect.arrayContaining([{ status: 'up' }]),
      );
      for (const check of Object.values(open.body.details as Record<string, object>)) {
        expect(Object.keys(check)).toEqual(['status']);
      }
      expect(JSON.stringify(open.body)).not.toMatch(/heap|rss|path|responseTimeMs|\//);
      const guarded = await monitoredApp(adapter, {
        environment: 'production',
        metrics: { auth: { bearerToken: 'a-long-scrape-token' } },
      });
      await using guardedApp = guarded.t;
      const anonymous = await guardedApp.request.get('/health').expect(200);
      expect(JSON.stringify(anonymous.body)).not.toMatch(/heap|rss|path/);
      const full = await guardedApp.request
        .get('/health')
        .set('authorization', 'Bearer a-long-scrape-token')
        .expect(200);
      expect(JSON.stringify(full.body)).toMatch(/heap|rss/);
    });

    it('reports a failing non-critical check as degraded with readiness still 200', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      const registry = t.app.get(HealthRegistry);
      registry.register('cache', () => Promise.reject(new Error('redis down')), {
        critical: false,
      });
      registry.register('queue', () => {
        throw new HealthDegradedError('lagging', { lag: 12 });
      });
      const ready = await t.request.get('/health/ready').expect(200);
      expect(ready.body.status).toBe('degraded');
      expect(ready.body.details.cache).toMatchObject({ status: 'degraded', reason: 'redis down' });
      expect(ready.body.details.queue).toMatchObject({ status: 'degraded', lag: 12 });
    });

    it('times out a hanging check: down, and the endpoint still answers within 2 s', async () => {
      const { t } = await monitoredApp(adapter, { health: { timeoutMs: 300 } });
      await using _ = t;
      t.app.get(HealthRegistry).register('stuck', () => new Promise(() => undefined));
      const started = Date.now();
      const res = await t.request.get('/health/ready').expect(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.body.error.stuck.reason).toBe('timed out after 300 ms');
    });

    it('shows memory and disk on the details endpoint', async () => {
      const { t } = await monitoredApp(adapter);
      await using _ = t;
      const res = await t.request.get('/health').expect(200);
      expect(res.body.details).toMatchObject({
        memory: { status: 'up' },
        disk: { status: 'up' },
        eventLoop: { status: 'up' },
      });
    });
  });
});

describe('MetricsService', () => {
  it('returns the same metric for the same name and labels, and refuses conflicting ones', async () => {
    @Module({})
    class Empty {}
    const { t } = await monitoredApp('express', {}, {}, [{ module: Empty }]);
    await using _ = t;
    const metrics = t.app.get(MetricsService);
    const a = metrics.counter({ name: 'orders_placed_total', help: 'x', labelNames: ['channel'] });
    expect(
      metrics.counter({ name: 'orders_placed_total', help: 'x', labelNames: ['channel'] }),
    ).toBe(a);
    expect(() =>
      metrics.counter({ name: 'orders_placed_total', help: 'x', labelNames: ['region'] }),
    ).toThrow(
      'metric "orders_placed_total" already exists with labels [channel], asked for [region]',
    );
    expect(() =>
      metrics.gauge({ name: 'orders_placed_total', help: 'x', labelNames: ['channel'] }),
    ).toThrow(/already exists as a counter/);
  });
});
