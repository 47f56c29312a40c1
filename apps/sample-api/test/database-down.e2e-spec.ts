import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { createTestApp, type TestApp } from '@infrastructure/testing';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';
import { bearer } from './auth.js';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

// A database of its own, so switching it off cannot disturb other test files.
describe('sample API when PostgreSQL goes away after boot', () => {
  const name = `t_down_${randomBytes(4).toString('hex')}`;
  const admin = new DataSource({ type: 'postgres', url: ADMIN_URL });
  let t: TestApp;
  let auth: string;

  beforeAll(async () => {
    await admin.initialize();
    await admin.query(`CREATE DATABASE ${name}`);
    t = await createTestApp(
      {
        imports: [
          AppModule.forRoot({
            env: {
              NODE_ENV: 'test',
              LOG_LEVEL: 'fatal',
              LOG_PRETTY: 'false',
              DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`,
              HEALTH_TIMEOUT_MS: '1000',
            },
            envFiles: false,
          }),
        ],
      },
      { configure: configureApp },
    );
    auth = await bearer(t);
  });
  afterAll(async () => {
    await t?.close();
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.destroy();
  });

  it('answers 503 problems quickly (no hang, no 500), reports readiness 503, and recovers without a restart', async () => {
    const placed = await t.request
      .post('/v1/orders')
      .set('authorization', auth)
      .send({ customerId: 'c', sku: 'S', quantity: 1, unitPriceCents: 1 })
      .expect(201);

    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [
      name,
    ]);

    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await t.request.get(`/v1/orders/${placed.body.id}`).set('authorization', auth);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status: 503,
        detail: 'The database is unavailable; try again shortly.',
      });
      expect(res.text).not.toMatch(/postgres|accepting|terminat/i);
    }
    const ready = await t.request.get('/health/ready').expect(503);
    expect(ready.body.error.database.status).toBe('down');
    await t.request.get('/health/live').expect(200);

    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    const back = await t.request
      .get(`/v1/orders/${placed.body.id}`)
      .set('authorization', auth)
      .expect(200);
    expect(back.body.id).toBe(placed.body.id);
    await t.request.get('/health/ready').expect(200);
  });
});
