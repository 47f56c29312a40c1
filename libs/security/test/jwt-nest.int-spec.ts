import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsService, MonitoringModule } from '@infrastructure/monitoring';
import { testMonitoringOptions, LogCapture } from '@infrastructure/testing';
import {
  InvalidGrantError,
  JWT_KEYRING_OPTIONS,
  JWT_MANAGER_OPTIONS,
  JwtKeyring,
  JwtManager,
  MemoryRevocationStore,
  RevocationStore,
  type JwtManagerOptions,
} from '../src/jwt/index.js';
import { ClientCredentialsClient, OidcVerifier, TokenRequestError } from '../src/oidc/index.js';
import {
  API_AUDIENCE,
  newProviderKey,
  SERVICE_CLIENT,
  TestOidcProvider,
} from './oidc-test-provider.js';

const HS_SECRET = 'hs-secret-value-that-never-reaches-logs-0123';
const logs = new LogCapture();
let moduleRef: TestingModule;

beforeAll(async () => {
  moduleRef = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(
        testMonitoringOptions({ logging: { level: 'debug', destination: logs } }),
      ),
    ],
    providers: [
      {
        provide: JWT_KEYRING_OPTIONS,
        useValue: { keys: [{ kid: 'hs-1', alg: 'HS256', key: HS_SECRET }] },
      },
      JwtKeyring,
      { provide: RevocationStore, useClass: MemoryRevocationStore },
      {
        provide: JWT_MANAGER_OPTIONS,
        useValue: { issuer: 'https://api.test', audience: 'orders' } satisfies JwtManagerOptions,
      },
      JwtManager,
    ],
  }).compile();
  await moduleRef.init();
});

afterAll(() => moduleRef.close());

describe('JwtManager inside Nest', () => {
  it('gets the keyring, revocation store and MetricsService injected', async () => {
    const jwt = moduleRef.get(JwtManager);
    expect(jwt.keyring).toBe(moduleRef.get(JwtKeyring));
    expect(jwt.revocation).toBe(moduleRef.get(RevocationStore));
    expect(jwt.keyring.activeKid).toBe('hs-1');
    await jwt.verify(await jwt.createToken({ sub: 'u1' }));
    const text = (await moduleRef.get(MetricsService).render()).body;
    expect(text).toMatch(/auth_tokens_verified_total\{result="valid",reason="ok"\} [1-9]/);
  });
});

describe('logs of the JWT and OIDC code', () => {
  it('warns once that an ephemeral key is in use', () => {
    const before = logs.records.length;
    const ring = new JwtKeyring();
    expect(ring.list()).toMatchObject([{ ephemeral: true, canSign: true }]);
    const warnings = logs.records
      .slice(before)
      .filter((r) => String(r.msg).includes('ephemeral key, tokens die with the process'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', context: 'JwtKeyring', alg: 'ES256' });
  });

  it('never contain secrets, key material or tokens, whatever happens', async () => {
    const jwt = moduleRef.get(JwtManager);
    const tokens: string[] = [];
    const pair = await jwt.issueTokens({ sub: 'u1', scopes: ['orders:read'] });
    tokens.push(pair.accessToken, pair.refreshToken);
    const next = await jwt.refresh(pair.refreshToken);
    tokens.push(next.accessToken, next.refreshToken);
    await expect(jwt.refresh(pair.refreshToken)).rejects.toBeInstanceOf(InvalidGrantError);
    expect(logs.text).toContain('refresh token reused, its family is revoked');

    // a rotation with generated and configured keys
    const ring = moduleRef.get(JwtKeyring);
    ring.rotate({ alg: 'EdDSA' });
    const ecKey = newProviderKey('cfg');
    ring.addKey({ alg: 'ES256', key: JSON.stringify(ecKey) });
    tokens.push(await jwt.createToken({ sub: 'u2' }));

    // fail-open warning of a dead store
    const dead = new JwtManager({
      issuer: 'https://api.test',
      audience: 'orders',
      keyring: ring,
      revocation: {
        revoke: () => Promise.reject(new Error('down')),
        isRevoked: () => Promise.reject(new Error('down')),
        close: () => Promise.resolve(),
      },
    });
    await dead.verify(tokens.at(-1)!);
    expect(logs.text).toContain('fail-open');

    // OIDC: a real provider, a wrong client secret, a rotation
    const provider = await new TestOidcProvider().start([newProviderKey('p1')]);
    const wrong = 'client-secret-that-never-reaches-logs-0123';
    const bad = new ClientCredentialsClient({
      issuer: provider.issuer,
      clientId: SERVICE_CLIENT.id,
      clientSecret: wrong,
      allowInsecureHttp: true,
    });
    await expect(bad.getToken()).rejects.toBeInstanceOf(TokenRequestError);
    const good = new ClientCredentialsClient({
      issuer: provider.issuer,
      clientId: SERVICE_CLIENT.id,
      clientSecret: SERVICE_CLIENT.secret,
      allowInsecureHttp: true,
    });
    const serviceToken = await good.getAccessToken();
    tokens.push(serviceToken);
    await new OidcVerifier({
      issuer: provider.issuer,
      audience: API_AUDIENCE,
      allowInsecureHttp: true,
    }).verify(serviceToken);
    await provider.close();

    const text = logs.text;
    // the events were logged (so the checks below look at real lines)
    for (const msg of [
      'JwtKeyring: signing key activated',
      'Client-credentials token request failed',
      'Client-credentials token acquired',
      'OidcVerifier: JWKS loaded',
    ]) {
      expect(text).toContain(msg);
    }
    for (const secret of [HS_SECRET, wrong, SERVICE_CLIENT.secret, String(ecKey.d), ...tokens]) {
      expect(text).not.toContain(secret);
    }
    // nor any part of a token (its signature)
    for (const token of tokens) expect(text).not.toContain(token.split('.')[2]!);
  });
});
