import { generateKeyPairSync, createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ApiKeys, JwtManager } from '@infrastructure/security';
import { createTestApp, type TestApp } from '@infrastructure/testing';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';

const quiet = { NODE_ENV: 'test', LOG_LEVEL: 'fatal', LOG_PRETTY: 'false' };

function sampleApi(env: Record<string, string>): Promise<TestApp> {
  return createTestApp(
    {
      imports: [
        AppModule.forRoot({
          env: { ...quiet, DATABASE_URL: 'sqlite::memory:', ...env },
          envFiles: false,
        }),
      ],
    },
    { configure: configureApp },
  );
}

const now = () => Math.floor(Date.now() / 1000);

const b64url = (v: object | string) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('sample API authentication and authorization', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await sampleApi({ JWT_ISSUER: 'sample-api', JWT_AUDIENCE: 'sample-api' });
  });
  afterAll(() => t?.close());

  it('issues client-credentials tokens to the demo client (JSON or Basic) that open the orders API', async () => {
    const res = await t.request
      .post('/v1/auth/token')
      .send({ grant_type: 'client_credentials', client_id: 'demo', client_secret: 'demo-secret' })
      .expect(200);
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'orders:read orders:write',
    });
    const placed = await t.request
      .post('/v1/orders')
      .set('authorization', `Bearer ${res.body.access_token}`)
      .send({ customerId: 'sec-1', sku: 'S-1', quantity: 1, unitPriceCents: 100 })
      .expect(201);
    const basic = await t.request
      .post('/v1/auth/token')
      .auth('demo', 'demo-secret')
      .send({ grant_type: 'client_credentials', scope: 'orders:read' })
      .expect(200);
    await t.request
      .get(`/v1/orders/${placed.body.id}`)
      .set('authorization', `Bearer ${basic.body.access_token}`)
      .expect(200);
  });

  it('refuses a wrong client secret (401) and a scope the client does not have (400)', async () => {
    const wrong = await t.request
      .post('/v1/auth/token')
      .send({ grant_type: 'client_credentials', client_id: 'demo', client_secret: 'nope' })
      .expect(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
    await t.request
      .post('/v1/auth/token')
      .send({
        grant_type: 'client_credentials',
        client_id: 'demo',
        client_secret: 'demo-secret',
        scope: 'admin',
      })
      .expect(400);
    await t.request.post('/v1/auth/token').send({ grant_type: 'password' }).expect(400);
  });

  it('answers the token endpoint as RFC 6749 §5.1/5.2 says: no-store, and the OAuth error member', async () => {
    const ok = await t.request
      .post('/v1/auth/token')
      .send({ grant_type: 'client_credentials', client_id: 'demo', client_secret: 'demo-secret' })
      .expect(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.headers['pragma']).toBe('no-cache');
    const cases: Array<[object, number, string]> = [
      [
        { grant_type: 'client_credentials', client_id: 'demo', client_secret: 'nope' },
        401,
        'invalid_client',
      ],
      [
        {
          grant_type: 'client_credentials',
          client_id: 'demo',
          client_secret: 'demo-secret',
          scope: 'admin',
        },
        400,
        'invalid_scope',
      ],
      [{ grant_type: 'password', username: 'a', password: 'b' }, 400, 'unsupported_grant_type'],
    ];
    for (const [body, status, error] of cases) {
      const res = await t.request.post('/v1/auth/token').send(body);
      expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status,
        title: expect.any(String),
        detail: expect.any(String),
      });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
    }
    const invalid = await t.request.post('/v1/auth/token').send({ client_id: 'demo' }).expect(400);
    expect(invalid.headers['cache-control']).toBe('no-store');
  });

  it('answers undecodable Basic client credentials with 401 invalid_client, never a 500', async () => {
    const basics = [
      Buffer.from('%zz:secret').toString('base64'), // not percent-decodable
      Buffer.from('demo:%E0%A4%A').toString('base64'),
      Buffer.from([0xff, 0xfe, 0x3a, 0x00]).toString('base64'), // not UTF-8
      'bm9jb2xvbg==', // "nocolon"
    ];
    for (const b64 of basics) {
      const res = await t.request
        .post('/v1/auth/token')
        .set('authorization', `Basic ${b64}`)
        .send({ grant_type: 'client_credentials' });
      expect({ b64, status: res.status, error: res.body.error }).toEqual({
        b64,
        status: 401,
        error: 'invalid_client',
      });
    }
  });

  it('401 with a Bearer challenge without a token; 403 insufficient_scope with a read-only token', async () => {
    const anonymous = await t.request.get('/v1/orders').expect(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
    expect(anonymous.headers['content-type']).toMatch(/problem\+json/);
    const readOnly = await t.app
      .get(JwtManager)
      .createToken({ sub: 'reader', scopes: ['orders:read'] });
    await t.request.get('/v1/orders').set('authorization', `Bearer ${readOnly}`).expect(200);
    const denied = await t.request
      .post('/v1/orders')
      .set('authorization', `Bearer ${readOnly}`)
      .send({ customerId: 'x', sku: 'y', quantity: 1, unitPriceCents: 1 })
      .expect(403);
    expect(denied.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(denied.headers['www-authenticate']).toContain('scope="orders:write"');
  });

  it('accepts an API key configured by its hash (x-api-key), with its scopes', async () => {
    const keyed = await sampleApi({
      API_KEYS: `reporting|${ApiKeys.hash('rk-0123456789abcdef')}|orders:read`,
    });
    try {
      await keyed.request.get('/v1/orders').set('x-api-key', 'rk-0123456789abcdef').expect(200);
      await keyed.request
        .post('/v1/orders')
        .set('x-api-key', 'rk-0123456789abcdef')
        .send({ customerId: 'x', sku: 'y', quantity: 1, unitPriceCents: 1 })
        .expect(403);
      const wrong = await keyed.request.get('/v1/orders').set('x-api-key', 'rk-nope');
      expect(wrong.status).toBe(401);
    } finally {
      await keyed.close();
    }
  });

  it('keeps health, metrics, info and the JWKS public', async () => {
    await t.request.get('/health/live').expect(200);
    await t.request.get('/metrics').expect(200);
    await t.request.get('/').expect(200);
    const jwks = await t.request.get('/.well-known/jwks.json').expect(200);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256' });
    expect(jwks.body.keys[0].d).toBeUndefined();
  });

  it('sends security headers (helmet)', async () => {
    const res = await t.request.get('/').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });
});

describe('JWT attack suite against the sample API (RS256 keyring)', () => {
  let t: TestApp;
  let publicPem: string;
  let privatePem: string;
  let good: string;

  beforeAll(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const dir = mkdtempSync(join(tmpdir(), 'jwt-'));
    writeFileSync(join(dir, 'key.pem'), privatePem);
    t = await sampleApi({
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY_FILE: join(dir, 'key.pem'),
      JWT_ISSUER: 'sample-api',
      JWT_AUDIENCE: 'sample-api',
    });
    good = await t.app.get(JwtManager).createToken({ sub: 'victim', scopes: ['orders:read'] });
  });
  afterAll(() => t?.close());

  const header = () =>
    JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
  const claims = () =>
    JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

  const attacks: Array<[string, () => Promise<string> | string]> = [
    ['alg none', () => `${b64url({ ...header(), alg: 'none' })}.${b64url(claims())}.`],
    [
      'HS256 signed with the RSA public key',
      () => {
        const h = b64url({ ...header(), alg: 'HS256' });
        const p = b64url(claims());
        const sig = createHmac('sha256', publicPem).update(`${h}.${p}`).digest('base64url');
        return `${h}.${p}.${sig}`;
      },
    ],
    ['expired', () => sign({ exp: now() - 3600, iat: now() - 7200 })],
    ['not yet valid', () => sign({ nbf: now() + 3600 })],
    ['wrong issuer', () => sign({ iss: 'evil' })],
    ['wrong audience', () => sign({ aud: 'someone-else' })],
    ['unknown kid', () => sign({}, { kid: 'not-in-the-ring' })],
    [
      'tampered payload',
      () => {
        const [h, , s] = good.split('.');
        return `${h}.${b64url({ ...claims(), sub: 'admin', scope: 'orders:read orders:write' })}.${s}`;
      },
    ],
    ['truncated', () => good.slice(0, good.length - 20)],
    ['garbage', () => 'not.a.jwt'],
    ['oversized (over the 8 KiB limit)', () => `${good}${'A'.repeat(9_000)}`],
  ];

  /** A token signed with the real private key, with claims or header overridden. */
  async function sign(
    overrides: Record<string, unknown>,
    headerOverrides: Record<string, unknown> = {},
  ) {
    const { createPrivateKey } = await import('node:crypto');
    return new SignJWT({ ...claims(), ...overrides })
      .setProtectedHeader({ ...header(), ...headerOverrides } as never)
      .sign(createPrivateKey(privatePem));
  }

  it('accepts the genuine token', async () => {
    const res = await t.request
      .get('/v1/orders')
      .set('authorization', `Bearer ${good}`)
      .expect(200);
    expect(res.body.items).toBeInstanceOf(Array);
  });

  it.each(attacks)(
    'refuses %s with 401 (never 500), with an audit record',
    async (_label, forge) => {
      const audit = t.app.get<DataSource>(getDataSourceToken());
      const count = async () =>
        Number(
          (
            (await audit.query(
              "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'auth.authentication.failed'",
            )) as Array<{ n: number | string }>
          )[0]!.n,
        );
      const before = await count();
      const token = await forge();
      const res = await t.request.get('/v1/orders').set('authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(JSON.stringify(res.body)).not.toMatch(/stack|Error:/);
      expect(await count()).toBe(before + 1);
    },
  );

  it('refuses a token in the query string with 401', async () => {
    const res = await t.request.get(`/v1/orders?access_token=${good}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('invalid_request');
  });

  it('refuses a token of another service signed with another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ ...claims(), jti: randomUUID() })
      .setProtectedHeader(header() as never)
      .sign(other.privateKey);
    const res = await t.request.get('/v1/orders').set('authorization', `Bearer ${forged}`);
    expect(res.status).toBe(401);
  });
});

describe('rate limits shared by two instances through Redis', () => {
  const shared = {
    REDIS_URL: 'redis://127.0.0.1:6379',
    CACHE_KEY_PREFIX: `rl-e2e-${randomUUID().slice(0, 8)}:`,
    RATE_LIMIT_PER_MINUTE: '10',
    JWT_SECRET: 'a-shared-hs256-secret-of-at-least-32-chars',
  };
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    [a, b] = await Promise.all([sampleApi(shared), sampleApi(shared)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('limit 10/min → exactly 10 of 20 requests across both instances succeed; 429 has Retry-After', async () => {
    const token = await a.app
      .get(JwtManager)
      .createToken({ sub: `rl-${randomUUID()}`, scopes: ['orders:read'] });
    const responses = [];
    for (let i = 0; i < 20; i++) {
      const t = i % 2 === 0 ? a : b;
      responses.push(await t.request.get('/v1/orders').set('authorization', `Bearer ${token}`));
    }
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(10);
    expect(ok.map((r) => r.headers['ratelimit-limit'])).toEqual(Array(10).fill('10'));
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThan(0);
    // Another user has a budget of their own.
    const other = await b.app
      .get(JwtManager)
      .createToken({ sub: `rl-${randomUUID()}`, scopes: ['orders:read'] });
    await a.request.get('/v1/orders').set('authorization', `Bearer ${other}`).expect(200);
  });
});

describe('JWT key rotation', () => {
  it('keeps old tokens valid until the key is retired, and audits each change', async () => {
    const t = await sampleApi({});
    try {
      const jwt = t.app.get(JwtManager);
      const before = await jwt.createToken({ sub: 'rot', scopes: ['orders:read'] });
      const oldKid = jwt.keyring.jwks().keys[0]!.kid;
      jwt.keyring.rotate();
      const after = await jwt.createToken({ sub: 'rot', scopes: ['orders:read'] });
      const jwks = await t.request.get('/.well-known/jwks.json').expect(200);
      expect(jwks.body.keys).toHaveLength(2);
      await t.request.get('/v1/orders').set('authorization', `Bearer ${before}`).expect(200);
      jwt.keyring.retire(oldKid);
      const refused = await t.request.get('/v1/orders').set('authorization', `Bearer ${before}`);
      expect(refused.status).toBe(401);
      await t.request.get('/v1/orders').set('authorization', `Bearer ${after}`).expect(200);
      const rows = (await t.app
        .get<DataSource>(getDataSourceToken())
        .query("SELECT target FROM audit_log WHERE action = 'crypto.key.rotated'")) as Array<{
        target: string;
      }>;
      expect(rows.map((r) => r.target)).toContain(`jwt-key:${oldKid}`);
    } finally {
      await t.close();
    }
  });
});
