import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Redis } from 'ioredis';
import { createConnection, type Connection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CacheStore } from '@infrastructure/caching';
import { JwtManager, SecretsProvider } from '@infrastructure/security';
import { createTestApp, kubeletWrite, RedisServer, type TestApp } from '@infrastructure/testing';
import { generateWebhookSecret } from '@infrastructure/webhooks';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';

// Every secret of the sample lives in one mounted directory (a Kubernetes secret volume) and
// rotates at once, with a `..data` swap: the JWT signing key, the MariaDB password (MariaDB
// checks it: a user of the test's own), the Redis password (a redis-server of the test's own:
// requirepass changes) and the webhook signing secret.
const USER = `rot_sample_${process.pid}`;
const DB = `sample_rot_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'sample-secrets-'));
const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
const before = {
  JWT_PRIVATE_KEY: pem(),
  DATABASE_PASSWORD: 'db-pw-a',
  REDIS_PASSWORD: 'redis-pw-a',
  WEBHOOK_SECRET: generateWebhookSecret(),
};
const after = {
  JWT_PRIVATE_KEY: pem(),
  DATABASE_PASSWORD: 'db-pw-b',
  REDIS_PASSWORD: 'redis-pw-b',
  WEBHOOK_SECRET: generateWebhookSecret(),
};

let admin: Connection;
let redis: RedisServer;
let redisAdmin: Redis;
let t: TestApp;

const header = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
const connectAs = (password: string) =>
  createConnection({ host: '127.0.0.1', port: 3306, user: USER, password, database: DB });

beforeAll(async () => {
  admin = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${DB}\``);
  await admin.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${before.DATABASE_PASSWORD}'`);
  await admin.query(`GRANT ALL ON \`${DB}\`.* TO '${USER}'@'%'`);
  redis = await RedisServer.start({ password: before.REDIS_PASSWORD });
  redisAdmin = new Redis(redis.url(before.REDIS_PASSWORD), { lazyConnect: true });
  await redisAdmin.connect();
  kubeletWrite(dir, before);
  t = await createTestApp(
    {
      imports: [
        AppModule.forRoot({
          env: {
            NODE_ENV: 'test',
            LOG_LEVEL: 'fatal',
            LOG_PRETTY: 'false',
            DATABASE_URL: `mariadb://${USER}@127.0.0.1:3306/${DB}`,
            DATABASE_PASSWORD_FILE: join(dir, 'DATABASE_PASSWORD'),
            REDIS_URL: redis.url(),
            REDIS_PASSWORD_FILE: join(dir, 'REDIS_PASSWORD'),
            JWT_ALGORITHM: 'ES256',
            JWT_PRIVATE_KEY_FILE: join(dir, 'JWT_PRIVATE_KEY'),
            WEBHOOK_SECRET_FILE: join(dir, 'WEBHOOK_SECRET'),
          },
          envFiles: false,
        }),
      ],
    },
    { configure: configureApp },
  );
});

afterAll(async () => {
  await t?.close();
  redisAdmin?.disconnect();
  await redis?.stop();
  await admin?.query(`DROP USER IF EXISTS '${USER}'@'%'`).catch(() => undefined);
  await admin?.query(`DROP DATABASE IF EXISTS \`${DB}\``).catch(() => undefined);
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('sample API: every secret rotates without a restart (one ..data swap)', () => {
  it('JWT key, MariaDB password, Redis password and webhook secret all follow their files', async () => {
    const jwt = t.app.get(JwtManager);
    const secrets = t.app.get(SecretsProvider);
    const ds = t.app.get<DataSource>(getDataSourceToken());
    const webhooks = t.app.get<{ signing: { keys: readonly Buffer[] } }>('WEBHOOKS:OPTIONS');
    const cache = t.app.get(CacheStore) as unknown as {
      set(key: string, value: unknown): Promise<void>;
      get(key: string): Promise<unknown>;
      deps: { bus: { publisher: Redis; subscriber: Redis } };
    };
    const securityRedis = t.app.get<Redis>('SECURITY:REDIS');

    const oldToken = await jwt.createToken({ sub: 'rot', scopes: ['orders:read', 'orders:write'] });
    const signingBefore = webhooks.signing.keys;
    expect(signingBefore).toHaveLength(1);
    const oldPool = (ds.driver as unknown as { pool: unknown }).pool;

    // The servers first, then the secrets.
    await admin.query(`ALTER USER '${USER}'@'%' IDENTIFIED BY '${after.DATABASE_PASSWORD}'`);
    await expect(connectAs(before.DATABASE_PASSWORD)).rejects.toThrow(/Access denied/);
    await redisAdmin.config('SET', 'requirepass', after.REDIS_PASSWORD);
    const changed = Object.keys(after).map(
      (name) =>
        new Promise<void>((resolve) => {
          const off = secrets.onChange(name, () => {
            off();
            resolve();
          });
        }),
    );
    const keyChanged = once(jwt.keyring, 'change');
    kubeletWrite(dir, after);
    await Promise.all([...changed, keyChanged]);

    // JWT: new tokens carry the new key's kid; the old token still verifies.
    const newToken = await jwt.createToken({ sub: 'rot', scopes: ['orders:read'] });
    expect(header(newToken).kid).not.toBe(header(oldToken).kid);
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const token of [oldToken, newToken]) {
      await t.request
        .get(`/v1/orders/${missing}`)
        .set('authorization', `Bearer ${token}`)
        .expect(404);
    }

    // Webhooks: the new secret signs first, the replaced one still signs (overlap).
    expect(webhooks.signing.keys).toHaveLength(2);
    expect(webhooks.signing.keys[1]!.equals(signingBefore[0]!)).toBe(true);

    // MariaDB: the pool is replaced (its replacement is queued behind the change event); then
    // every connection of the user is killed, so what follows had to log in with the new password.
    await vi.waitFor(() =>
      expect((ds.driver as unknown as { pool: unknown }).pool).not.toBe(oldPool),
    );
    const [ids] = await admin.query(
      'SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?',
      [USER],
    );
    for (const { ID } of ids as Array<{ ID: number }>) await admin.query(`KILL ${Number(ID)}`);
    const placed = await t.request
      .post('/v1/orders')
      .set(
        'authorization',
        `Bearer ${await jwt.createToken({ sub: 'rot', scopes: ['orders:write'] })}`,
      )
      .send({ customerId: 'rot-1', sku: 'R-1', quantity: 1, unitPriceCents: 100 });
    expect(placed.status).toBe(201);

    // Redis: every connection is dropped; the cache and the security client reconnect with the
    // new password.
    const ready = [cache.deps.bus.publisher, cache.deps.bus.subscriber, securityRedis].map((c) =>
      once(c, 'ready'),
    );
    await redisAdmin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await redisAdmin.client('KILL', 'TYPE', 'pubsub');
    await Promise.all(ready);
    await cache.set('rot:k', 'v');
    expect(await cache.get('rot:k')).toBe('v');
    expect(await securityRedis.ping()).toBe('PONG');
  });
});
