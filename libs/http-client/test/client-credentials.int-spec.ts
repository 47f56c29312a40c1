import { ClientCredentialsClient, OidcVerifier } from '@infrastructure/security';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient, HttpClientError, type HttpClientOptions } from '../src/index.js';
import { resolveHttpClientOptions } from '../src/http-client.options.js';
import {
  API_AUDIENCE,
  newProviderKey,
  SERVICE_CLIENT,
  TestOidcProvider,
} from '../../security/test/oidc-test-provider.js';
import { TestHttpServer } from '@infrastructure/testing';

// A service-to-service call as it runs in production: the token comes from a real OAuth2
// authorization server (oidc-provider) through the security lib's ClientCredentialsClient, and
// the upstream verifies it (OidcVerifier) — and refuses tokens it has revoked.
let provider: TestOidcProvider;
let upstream: TestHttpServer;
const revoked = new Set<string>();
const clients: HttpClient[] = [];

beforeAll(async () => {
  provider = await new TestOidcProvider().start([newProviderKey('k1')]);
  upstream = await TestHttpServer.start();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await upstream?.close();
  await provider?.close();
});
beforeEach(() => {
  const verifier = new OidcVerifier({
    issuer: provider.issuer,
    audience: API_AUDIENCE,
    allowInsecureHttp: true,
  });
  upstream.reset();
  upstream.handle((req, res) => {
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    if (revoked.has(token)) return TestHttpServer.json(res, 401, { title: 'token revoked' });
    void verifier.verify(token).then(
      (claims) => TestHttpServer.json(res, 200, { subject: claims.sub }),
      () => TestHttpServer.json(res, 401, { title: 'invalid token' }),
    );
  });
});

function setup(auth: (tokens: ClientCredentialsClient) => HttpClientOptions['auth']) {
  const tokens = new ClientCredentialsClient({
    issuer: provider.issuer,
    clientId: SERVICE_CLIENT.id,
    clientSecret: SERVICE_CLIENT.secret,
    scope: ['orders:read'],
    allowInsecureHttp: true,
  });
  const http = new HttpClient(
    resolveHttpClientOptions('ledger', { baseUrl: upstream.url, auth: auth(tokens) }),
  );
  clients.push(http);
  return { tokens, http };
}

const tokenOf = (i: number) => String(upstream.requests[i]!.headers.authorization).slice(7);

describe('HttpClient with a client-credentials token (security lib, real oidc-provider)', () => {
  it('sends a token the upstream accepts, fetched once and reused', async () => {
    const { http } = setup((tokens) => ({
      type: 'bearer',
      tokenProvider: () => tokens.getAccessToken(),
    }));
    const before = provider.count('/token');
    const first = await http.get<{ subject: string }>('/balance');
    await http.get('/balance');
    expect(first.body.subject).toBe(SERVICE_CLIENT.id);
    expect(provider.count('/token') - before).toBe(1);
    expect(tokenOf(1)).toBe(tokenOf(0));
  });

  it('on a 401 drops the token (onUnauthorized), fetches a fresh one and sends once more', async () => {
    const { http } = setup((tokens) => ({
      type: 'bearer',
      tokenProvider: () => tokens.getAccessToken(),
      onUnauthorized: () => tokens.invalidate(),
    }));
    await http.get('/balance');
    revoked.add(tokenOf(0));
    const before = provider.count('/token');
    // A POST without an idempotency key: never retried by the pipeline, but a 401 was not processed.
    const res = await http.post<{ subject: string }>('/transfers', { body: { amount: 1 } });
    expect(res.body.subject).toBe(SERVICE_CLIENT.id);
    expect(provider.count('/token') - before).toBe(1);
    expect(upstream.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'POST']);
    expect(tokenOf(2)).not.toBe(tokenOf(1));
  });

  it('without onUnauthorized a 401 is the caller’s HttpClientError, nothing re-sent', async () => {
    const { http } = setup((tokens) => ({
      type: 'bearer',
      tokenProvider: () => tokens.getAccessToken(),
    }));
    await http.get('/balance');
    revoked.add(tokenOf(0));
    const error = await http.get('/balance').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpClientError);
    expect((error as HttpClientError).status).toBe(401);
    expect(upstream.hits).toBe(2);
  });
});
