import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientCredentialsClient } from '@infrastructure/security';
import { createTestApp, type TestApp } from '@infrastructure/testing';
import {
  API_AUDIENCE,
  newProviderKey,
  SERVICE_CLIENT,
  TestOidcProvider,
} from '../../../libs/security/test/oidc-test-provider.js';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';

// OIDC_ISSUER_URL: the sample API also accepts access tokens of an external OpenID provider
// (a real oidc-provider here), next to its own; key rotation at the provider needs no restart.
describe('sample API as a resource server of an OpenID provider', () => {
  const provider = new TestOidcProvider();
  let t: TestApp;

  beforeAll(async () => {
    await provider.start([newProviderKey('k1')]);
    t = await createTestApp(
      {
        imports: [
          AppModule.forRoot({
            env: {
              NODE_ENV: 'test',
              LOG_LEVEL: 'fatal',
              LOG_PRETTY: 'false',
              DATABASE_URL: 'sqlite::memory:',
              OIDC_ISSUER_URL: provider.issuer,
              OIDC_ALLOW_HTTP: 'true',
              OIDC_AUDIENCE: API_AUDIENCE,
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
    await provider.close();
  });

  const tokenFromProvider = () =>
    new ClientCredentialsClient({
      issuer: provider.issuer,
      clientId: SERVICE_CLIENT.id,
      clientSecret: SERVICE_CLIENT.secret,
      allowInsecureHttp: true,
      resource: API_AUDIENCE,
      scope: 'orders:read',
    }).getAccessToken();

  it('accepts the provider’s access tokens on scoped routes', async () => {
    const token = await tokenFromProvider();
    const res = await t.request
      .get('/v1/orders')
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    expect(res.body.items).toBeInstanceOf(Array);
    await t.request
      .post('/v1/orders')
      .set('authorization', `Bearer ${token}`)
      .send({ customerId: 'x', sku: 'y', quantity: 1, unitPriceCents: 1 })
      .expect(403); // orders:read only
  });

  it('still accepts its own tokens (routed by issuer)', async () => {
    const own = await t.request
      .post('/v1/auth/token')
      .send({ grant_type: 'client_credentials', client_id: 'demo', client_secret: 'demo-secret' })
      .expect(200);
    const res = await t.request
      .get('/v1/orders')
      .set('authorization', `Bearer ${own.body.access_token}`);
    expect(res.status).toBe(200);
  });
});
