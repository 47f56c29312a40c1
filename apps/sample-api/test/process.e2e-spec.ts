import { describe, expect, it } from 'vitest';
import { freePort, get, run } from './spawn.js';

describe('sample API process (built, as npm start runs it)', () => {
  it('boots with no configuration, turns readiness 503 on SIGTERM and exits 0 within 10 s', async () => {
    const port = await freePort();
    const app = run({ PORT: String(port), HOST: '127.0.0.1', SHUTDOWN_READINESS_DELAY_MS: '1500' });
    await app.listening;
    expect(await get(`http://127.0.0.1:${port}/health/live`)).toBe(200);
    expect(await get(`http://127.0.0.1:${port}/health/ready`)).toBe(200);
    const started = Date.now();
    app.child.kill('SIGTERM');
    await new Promise((r) => setImmediate(r));
    let ready = await get(`http://127.0.0.1:${port}/health/ready`);
    // The signal is delivered asynchronously; within the 1.5 s delay readiness must read 503.
    for (let i = 0; i < 20 && ready === 200; i++)
      ready = await get(`http://127.0.0.1:${port}/health/ready`);
    expect(ready).toBe(503);
    expect(await get(`http://127.0.0.1:${port}/health/live`)).toBe(200);
    expect(await app.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(app.output()).toContain('Shutdown complete');
  });

  it('refuses to start on a bad PORT, naming the variable and what it expected', async () => {
    const app = run({ PORT: 'abc', HTTP_ADAPTER: 'koa', MESSAGING_TRANSPORT: 'carrier-pigeon' });
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain(
      'MESSAGING_TRANSPORT: expected one of memory, redis, rabbitmq, kafka, nats, mqtt, got "carrier-pigeon"',
    );
    expect(app.output()).toContain('PORT: expected an integer 1-65535, got "abc"');
    expect(app.output()).toContain('HTTP_ADAPTER: expected one of express, fastify, got "koa"');
  });

  it('production: refuses to start without a JWT signing key; no /docs, no runtime version unless asked', async () => {
    const port = await freePort();
    const app = run({ NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1' });
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/JWT_PRIVATE_KEY_FILE.*JWT_SECRET/);
    const allowed = run({
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_ALLOW_EPHEMERAL_KEY: 'true',
    });
    await allowed.listening;
    // Production keeps the API map and the runtime version to itself.
    expect((await fetch(`http://127.0.0.1:${port}/docs-json`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/docs`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
      details: Record<string, object>;
    };
    expect(ready.details.database).toEqual({ status: 'up' }); // no driver, no response time
    const info = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Record<
      string,
      unknown
    >;
    expect(info).toEqual({ service: 'sample-api', environment: 'production' });
    allowed.child.kill('SIGTERM');
    expect(await allowed.exited).toBe(0);
    const documented = run({
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_ALLOW_EPHEMERAL_KEY: 'true',
      DOCS_ENABLED: 'true',
    });
    await documented.listening;
    expect((await fetch(`http://127.0.0.1:${port}/docs-json`)).status).toBe(200);
    documented.child.kill('SIGTERM');
    expect(await documented.exited).toBe(0);
  });

  it('logs an unhandled rejection as fatal and ends in the graceful shutdown with exit code 1', async () => {
    const port = await freePort();
    const app = run(
      { NODE_ENV: 'development', LOG_PRETTY: 'false', PORT: String(port), HOST: '127.0.0.1' },
      ['--import', './apps/sample-api/test/fixtures/reject-on-sigusr2.mjs'],
    );
    await app.listening;
    app.child.kill('SIGUSR2');
    expect(await app.exited).toBe(1);
    const lines = app
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as { level: string; msg: string; kind?: string; err?: { message: string } },
      );
    const fatal = lines.find((l) => l.kind === 'unhandledRejection');
    expect(fatal).toMatchObject({
      level: 'fatal',
      err: { message: 'boom: a rejection nothing handles' },
    });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['Shutdown started: readiness is now 503', 'Shutdown complete']),
    );
  });

  it('logs JSON from the first line when the database is unreachable at boot, and exits 1', async () => {
    const app = run({
      NODE_ENV: 'production',
      JWT_ALLOW_EPHEMERAL_KEY: 'true',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test',
    });
    expect(await app.exited).toBe(1);
    const lines = app
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    const records = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'fatal', msg: 'sample-api: failed to start' }),
    );
  });

  it('boots on fastify when HTTP_ADAPTER=fastify', async () => {
    const port = await freePort();
    const app = run({ PORT: String(port), HOST: '127.0.0.1', HTTP_ADAPTER: 'fastify' });
    await app.listening;
    const res = await fetch(`http://127.0.0.1:${port}/docs-json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });
  // Traces over OTLP from the built app: tracing-spans.e2e-spec.ts (spans of a request on both
  // adapters) and tracing.e2e-spec.ts (a trace across the message hop).
});
