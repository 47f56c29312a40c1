import { createHmac, generateKeyPairSync } from 'node:crypto';
import { CompactSign } from 'jose';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MetricsService } from '@infrastructure/monitoring';
import { InsufficientScopeError, InvalidTokenError } from '../src/jwt/index.js';
import {
  ClientCredentialsClient,
  OidcConfigError,
  OidcUnavailableError,
  OidcVerifier,
  type OidcVerifierOptions,
} from '../src/oidc/index.js';
import {
  API_AUDIENCE,
  newProviderKey,
  SERVICE_CLIENT,
  TestOidcProvider,
} from './oidc-test-provider.js';

let provider: TestOidcProvider;
const k1 = newProviderKey('k1');
const k2 = newProviderKey('k2');

beforeAll(async () => {
  provider = await new TestOidcProvider().start([k1]);
});
afterAll(() => provider.close());
beforeEach(() => {
  provider.setKeys([k1]);
  provider.setTokenTtl(300);
});

/** A token from the real provider's token endpoint (client credentials, JWT access token). */
async function providerToken(scope = 'orders:read'): Promise<string> {
  const tokens = new ClientCredentialsClient({
    issuer: provider.issuer,
    clientId: SERVICE_CLIENT.id,
    clientSecret: SERVICE_CLIENT.secret,
    scope,
    allowInsecureHttp: true,
  });
  return tokens.getAccessToken();
}

function verifier(options: Partial<OidcVerifierOptions> = {}) {
  return new OidcVerifier({
    issuer: provider.issuer,
    audience: API_AUDIENCE,
    allowInsecureHttp: true,
    ...options,
  });
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function refusedWith(promise: Promise<unknown>, reason: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect(error).toMatchObject({ reason, httpStatus: 401, error: 'invalid_token' });
}

describe('OidcVerifier against a real oidc-provider', () => {
  it('verifies a client-credentials JWT access token after reading discovery and JWKS once', async () => {
    const oidc = verifier();
    const token = await providerToken('orders:read orders:write');
    const before = {
      discovery: provider.count('/.well-known/openid-configuration'),
      jwks: provider.count('/jwks'),
    };
    const verified = await oidc.verify(token);
    expect(verified).toMatchObject({
      sub: SERVICE_CLIENT.id,
      clientId: SERVICE_CLIENT.id,
      scopes: ['orders:read', 'orders:write'],
      aud: [API_AUDIENCE],
      iss: provider.issuer,
      kid: 'k1',
    });
    await Promise.all(Array.from({ length: 20 }, () => oidc.verify(token)));
    expect(provider.count('/.well-known/openid-configuration') - before.discovery).toBe(1);
    expect(provider.count('/jwks') - before.jwks).toBe(1);
    expect(oidc.jwksFetches).toBe(1);
  });

  it('reads the discovery document and JWKS eagerly on ready()', async () => {
    const oidc = verifier();
    await expect(oidc.ready()).resolves.toEqual({
      issuer: provider.issuer,
      jwksUri: `${provider.issuer}/jwks`,
      algorithms: ['ES256'],
      tokenEndpoint: `${provider.issuer}/token`,
    });
    expect(oidc.jwksFetches).toBe(1);
  });

  it('checks required scopes: 403 insufficient_scope, configured or per call', async () => {
    const token = await providerToken('orders:read');
    const e = await verifier({ requiredScopes: ['orders:write'] })
      .verify(token)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InsufficientScopeError);
    expect(e).toMatchObject({
      httpStatus: 403,
      error: 'insufficient_scope',
      requiredScopes: ['orders:write'],
    });
    expect((e as InsufficientScopeError).httpHeaders['WWW-Authenticate']).toContain(
      'scope="orders:write"',
    );
    const oidc = verifier({ requiredScopes: ['orders:read'] });
    await expect(oidc.verify(token)).resolves.toMatchObject({ scopes: ['orders:read'] });
    await expect(oidc.verify(token, { scopes: ['orders:write'] })).rejects.toBeInstanceOf(
      InsufficientScopeError,
    );
  });

  it('refuses a token for another audience', async () => {
    const token = await providerToken();
    await expect(verifier({ audience: 'https://x.test' }).verify(token)).rejects.toMatchObject({
      reason: 'wrong_audience',
    });
    await refusedWith(
      verifier({ audience: 'https://billing-api.test' }).verify(token),
      'wrong_audience',
    );
    await refusedWith(
      verifier().verify(token, { audience: 'https://billing-api.test' }),
      'wrong_audience',
    );
  });

  it('refuses expired, tampered, truncated, alg none and HS256 tokens with typed 401s', async () => {
    const token = await providerToken();
    const exp = claimsOf(token).exp as number;
    let now = Date.now();
    const oidc = verifier({ clock: () => now });
    await expect(oidc.verify(token)).resolves.toMatchObject({ kid: 'k1' });
    const [h, p, s] = token.split('.') as [string, string, string];
    await refusedWith(
      oidc.verify(`${h}.${b64({ ...claimsOf(token), scope: 'orders:read admin' })}.${s}`),
      'bad_signature',
    );
    await expect(oidc.verify(token.slice(0, -5))).rejects.toBeInstanceOf(InvalidTokenError);
    await refusedWith(oidc.verify(`${h}.${p}`), 'malformed');
    await refusedWith(
      oidc.verify(`${b64({ alg: 'none', kid: 'k1', typ: 'at+jwt' })}.${p}.`),
      'alg_none',
    );
    // HS256 keyed with the provider's public key: HS* is never accepted for a remote JWKS
    const input = `${b64({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })}.${p}`;
    const hs = `${input}.${createHmac('sha256', JSON.stringify(k1)).update(input).digest('base64url')}`;
    await refusedWith(oidc.verify(hs), 'alg_not_allowed');
    // RS256 is configured but the provider does not announce it
    await refusedWith(
      oidc.verify(`${b64({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })}.${p}.${s}`),
      'alg_not_allowed',
    );
    await refusedWith(oidc.verify('x'.repeat(9000)), 'too_large');
    now = (exp + 31) * 1000;
    const expired = await oidc.verify(token).catch((x: unknown) => x);
    expect(expired).toMatchObject({ reason: 'expired', publicMessage: 'The access token expired' });
  });

  it('refuses the wrong typ unless configured (providers that issue typ "JWT")', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify({ sub: 'x' })))
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
      .sign(privateKey);
    // signature is checked before claims; the typ check on the provider's own token:
    const token = await providerToken();
    await refusedWith(verifier({ type: 'JWT' }).verify(token), 'wrong_type');
    await expect(verifier({ type: false }).verify(token)).resolves.toMatchObject({ kid: 'k1' });
    await refusedWith(verifier().verify(jwt), 'bad_signature');
  });

  it('picks up a key rotation at the provider without restart, rate-limiting refetches on unknown kids', async () => {
    provider.setTokenTtl(3600);
    let now = Date.now();
    const oidc = verifier({ clock: () => now, jwksCooldownMs: 30_000, jwksMaxAgeMs: 600_000 });
    const oldToken = await providerToken();
    await expect(oidc.verify(oldToken)).resolves.toMatchObject({ kid: 'k1' });
    expect(oidc.jwksFetches).toBe(1);

    // The provider rotates: k2 signs, k1 is still published.
    provider.setKeys([k2, k1]);
    const newToken = await providerToken();
    expect(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString())).toMatchObject({
      kid: 'k2',
    });
    // Within the cooldown after the last fetch, an unknown kid does not refetch.
    await refusedWith(oidc.verify(newToken), 'unknown_kid');
    expect(oidc.jwksFetches).toBe(1);
    now += 30_000;
    await expect(oidc.verify(newToken)).resolves.toMatchObject({ kid: 'k2' });
    expect(oidc.jwksFetches).toBe(2);
    await expect(oidc.verify(oldToken)).resolves.toMatchObject({ kid: 'k1' });

    // A flood of made-up kids: nothing within the cooldown, one shared fetch after it.
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const payload = new TextEncoder().encode(JSON.stringify(claimsOf(newToken)));
    const forged = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        new CompactSign(payload)
          .setProtectedHeader({ alg: 'ES256', kid: `evil-${i}`, typ: 'at+jwt' })
          .sign(attacker),
      ),
    );
    const results = await Promise.allSettled(forged.map((t) => oidc.verify(t)));
    expect(
      results.every(
        (r) => r.status === 'rejected' && (r.reason as InvalidTokenError).reason === 'unknown_kid',
      ),
    ).toBe(true);
    expect(oidc.jwksFetches).toBe(2);
    now += 30_000;
    const jwksBefore = provider.count('/jwks');
    await Promise.allSettled(forged.map((t) => oidc.verify(t)));
    expect(oidc.jwksFetches).toBe(3);
    expect(provider.count('/jwks') - jwksBefore).toBe(1);

    // k1 retired at the provider: old tokens keep verifying from cache until the keys age out,
    // then stop; new ones keep verifying.
    provider.setKeys([k2]);
    await expect(oidc.verify(oldToken)).resolves.toMatchObject({ kid: 'k1' });
    now += 600_000;
    await refusedWith(oidc.verify(oldToken), 'unknown_kid');
    await expect(oidc.verify(newToken)).resolves.toMatchObject({ kid: 'k2' });
  });

  it('counts verifications in auth_tokens_verified_total', async () => {
    const metrics = new MetricsService(new Registry());
    const oidc = verifier({ metrics, requiredScopes: ['orders:write'] });
    await oidc.verify(await providerToken('orders:write'));
    await oidc.verify(await providerToken('orders:read')).catch(() => undefined);
    await oidc.verify('garbage').catch(() => undefined);
    const text = (await metrics.render()).body;
    expect(text).toContain('auth_tokens_verified_total{result="valid",reason="ok"} 1');
    expect(text).toContain(
      'auth_tokens_verified_total{result="invalid",reason="insufficient_scope"} 1',
    );
    expect(text).toContain('auth_tokens_verified_total{result="invalid",reason="malformed"} 1');
  });
});

describe('OidcVerifier configuration and provider failures', () => {
  it('refuses an issuer that differs from the discovery document', async () => {
    const oidc = verifier({ issuer: provider.issuer.replace('127.0.0.1', 'localhost') });
    const e = await oidc.verify(await providerToken()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OidcConfigError);
    expect((e as Error).message).toContain('names issuer');
  });

  it('refuses HS*, none and an empty algorithm list, plain http without opt-in, and a missing audience', () => {
    expect(() => verifier({ algorithms: ['HS256'] })).toThrow(OidcConfigError);
    expect(() => verifier({ algorithms: ['none'] })).toThrow('asymmetric algorithms');
    expect(() => verifier({ algorithms: [] })).toThrow(OidcConfigError);
    expect(() => verifier({ allowInsecureHttp: false })).toThrow('must be https://');
    expect(() => verifier({ audience: [] })).toThrow('options.audience');
  });

  it('refuses when the provider announces none of the configured algorithms', async () => {
    const e = await verifier({ algorithms: ['RS256'] })
      .ready()
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OidcConfigError);
    expect((e as Error).message).toContain('none of options.algorithms');
  });

  it('answers 503 when the provider is down, but 401 for garbage without calling it', async () => {
    const down = new OidcVerifier({
      issuer: 'http://127.0.0.1:1',
      audience: API_AUDIENCE,
      allowInsecureHttp: true,
      httpTimeoutMs: 500,
    });
    const token = await providerToken();
    const e = await down.verify(token).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OidcUnavailableError);
    expect(e).toMatchObject({ httpStatus: 503 });
    // within a second of the failure, no new attempt: fast 503s
    await expect(down.verify(token)).rejects.toThrow('retrying shortly');
    await refusedWith(down.verify('not-a-token'), 'malformed');
  });

  it('keeps verifying with cached keys while the provider is down', async () => {
    const other = await new TestOidcProvider().start([k1]);
    let now = Date.now();
    const oidc = new OidcVerifier({
      issuer: other.issuer,
      audience: API_AUDIENCE,
      allowInsecureHttp: true,
      clock: () => now,
      httpTimeoutMs: 500,
      jwksMaxAgeMs: 60_000,
    });
    const tokens = new ClientCredentialsClient({
      issuer: other.issuer,
      clientId: SERVICE_CLIENT.id,
      clientSecret: SERVICE_CLIENT.secret,
      allowInsecureHttp: true,
    });
    const token = await tokens.getAccessToken();
    await oidc.verify(token);
    await other.close();
    now += 120_000; // past the JWKS max age, before the token's expiry
    await expect(oidc.verify(token)).resolves.toMatchObject({ kid: 'k1' });
  });
});
