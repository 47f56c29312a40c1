import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthorizationCodeClient,
  AuthorizationResponseError,
  ClientCredentialsClient,
  OidcConfigError,
  OidcVerifier,
  TokenRequestError,
  type AuthorizationRequest,
} from '../src/oidc/index.js';
import {
  API_AUDIENCE,
  newProviderKey,
  POST_CLIENT,
  PUBLIC_CLIENT,
  SERVICE_CLIENT,
  TestOidcProvider,
  WEB_CLIENT,
} from './oidc-test-provider.js';

let provider: TestOidcProvider;

beforeAll(async () => {
  provider = await new TestOidcProvider().start([newProviderKey('k1')]);
});
afterAll(() => provider.close());

function serviceClient(
  overrides: Partial<ConstructorParameters<typeof ClientCredentialsClient>[0]> = {},
) {
  return new ClientCredentialsClient({
    issuer: provider.issuer,
    clientId: SERVICE_CLIENT.id,
    clientSecret: SERVICE_CLIENT.secret,
    scope: ['orders:read'],
    allowInsecureHttp: true,
    ...overrides,
  });
}

const resourceServer = () =>
  new OidcVerifier({ issuer: provider.issuer, audience: API_AUDIENCE, allowInsecureHttp: true });

describe('ClientCredentialsClient against a real oidc-provider', () => {
  it('acquires a token with client_secret_basic that the resource server accepts, then serves it from cache', async () => {
    const tokens = serviceClient();
    const before = provider.count('/token');
    const first = await tokens.getToken();
    expect(first).toMatchObject({ tokenType: 'Bearer', scope: 'orders:read' });
    expect(first.expiresAt! - Date.now()).toBeGreaterThan(290_000);
    await expect(resourceServer().verify(first.accessToken)).resolves.toMatchObject({
      sub: SERVICE_CLIENT.id,
      scopes: ['orders:read'],
    });
    await expect(tokens.getAccessToken()).resolves.toBe(first.accessToken);
    expect(provider.count('/token') - before).toBe(1);
    expect(tokens.requests).toBe(1);
  });

  it('acquires a token with client_secret_post', async () => {
    const tokens = serviceClient({
      clientId: POST_CLIENT.id,
      clientSecret: POST_CLIENT.secret,
      authMethod: 'client_secret_post',
    });
    await expect(resourceServer().verify(await tokens.getAccessToken())).resolves.toMatchObject({
      sub: POST_CLIENT.id,
    });
  });

  it('sends one token request for 100 concurrent callers', async () => {
    const tokens = serviceClient();
    const before = provider.count('/token');
    const all = await Promise.all(Array.from({ length: 100 }, () => tokens.getAccessToken()));
    expect(new Set(all).size).toBe(1);
    expect(provider.count('/token') - before).toBe(1);
  });

  it('caches per scope and renews a token refreshSkewSeconds before it expires', async () => {
    let now = Date.now();
    const tokens = serviceClient({ clock: () => now, refreshSkewSeconds: 60 });
    const read = await tokens.getToken();
    const write = await tokens.getToken({ scope: 'orders:write' });
    expect(write.scope).toBe('orders:write');
    expect(tokens.requests).toBe(2);
    now = read.expiresAt! - 61_000;
    await expect(tokens.getAccessToken()).resolves.toBe(read.accessToken);
    expect(tokens.requests).toBe(2);
    now = read.expiresAt! - 59_000;
    const renewed = await tokens.getAccessToken();
    expect(renewed).not.toBe(read.accessToken);
    expect(tokens.requests).toBe(3);
    tokens.invalidate();
    await tokens.getAccessToken();
    expect(tokens.requests).toBe(4);
  });

  it('fails with a TokenRequestError carrying the OAuth error and never the secret', async () => {
    const wrong = 'wrong-secret-that-must-not-leak-0123456789';
    const e = await serviceClient({ clientSecret: wrong })
      .getToken()
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TokenRequestError);
    expect(e).toMatchObject({ error: 'invalid_client', httpStatus: 502 });
    expect((e as Error).message).toContain(`client "${SERVICE_CLIENT.id}" failed: invalid_client`);
    expect((e as Error).message).not.toContain(wrong);
    const notAllowed = await serviceClient({
      clientId: WEB_CLIENT.id,
      clientSecret: WEB_CLIENT.secret,
    })
      .getToken()
      .catch((x: unknown) => x);
    // oidc-provider answers a grant type the client may not use with invalid_request
    expect(notAllowed).toMatchObject({ name: 'TokenRequestError', error: 'invalid_request' });
  });

  it('does not cache a failure: the next call tries again', async () => {
    const tokens = serviceClient({ issuer: 'http://127.0.0.1:1', timeoutMs: 500 });
    await expect(tokens.getToken()).rejects.toBeInstanceOf(TokenRequestError);
    await expect(tokens.getToken()).rejects.toBeInstanceOf(TokenRequestError);
  });

  it('refuses bad options naming them', () => {
    expect(() => serviceClient({ clientSecret: undefined })).toThrow(OidcConfigError);
    expect(() => serviceClient({ allowInsecureHttp: false })).toThrow(
      'options.issuer must be https://',
    );
    expect(() => serviceClient({ clientId: '' })).toThrow('options.clientId is required');
    expect(() => serviceClient({ authMethod: 'private_key_jwt' as never })).toThrow(
      'options.authMethod',
    );
  });
});

/** Follows the provider's redirects like a browser (cookies included) until it lands on the app. */
async function signIn(url: URL, redirectUri: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let next = url.href;
  for (let hop = 0; hop < 10; hop++) {
    if (next.startsWith(redirectUri)) return new URL(next);
    const res = await fetch(next, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    await res.arrayBuffer();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`sign-in stopped at ${next} with HTTP ${res.status}`);
    next = new URL(location, next).href;
  }
  throw new Error('too many redirects');
}

const webClient = () =>
  new AuthorizationCodeClient({
    issuer: provider.issuer,
    clientId: WEB_CLIENT.id,
    clientSecret: WEB_CLIENT.secret,
    redirectUri: WEB_CLIENT.redirectUri,
    scope: 'openid profile',
    resource: API_AUDIENCE,
    allowInsecureHttp: true,
  });

describe('AuthorizationCodeClient (PKCE) against a real oidc-provider', () => {
  it('builds an authorization URL with state, nonce and an S256 code challenge', async () => {
    const login = await webClient().authorizationUrl({ extra: { prompt: 'consent' } });
    expect(login.url.origin + login.url.pathname).toBe(`${provider.issuer}/auth`);
    const q = Object.fromEntries(login.url.searchParams);
    expect(q).toMatchObject({
      client_id: WEB_CLIENT.id,
      redirect_uri: WEB_CLIENT.redirectUri,
      response_type: 'code',
      scope: 'openid profile',
      state: login.state,
      nonce: login.nonce,
      code_challenge_method: 'S256',
      resource: API_AUDIENCE,
      prompt: 'consent',
    });
    expect(login.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(q.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.code_challenge).not.toBe(login.codeVerifier);
    const again = await webClient().authorizationUrl();
    expect(again.state).not.toBe(login.state);
    expect(again.codeVerifier).not.toBe(login.codeVerifier);
  });

  it('signs a user in: code exchanged with the PKCE verifier, ID token checked, access token accepted by the API', async () => {
    const oauth = webClient();
    const login = await oauth.authorizationUrl();
    const callback = await signIn(login.url, WEB_CLIENT.redirectUri);
    expect(callback.searchParams.get('state')).toBe(login.state);
    const tokens = await oauth.exchangeCode(callback, login);
    expect(tokens).toMatchObject({
      tokenType: 'Bearer',
      claims: { sub: 'user-42', nonce: login.nonce },
    });
    expect(tokens.idToken).toBeDefined();
    await expect(resourceServer().verify(tokens.accessToken)).resolves.toMatchObject({
      sub: 'user-42',
      clientId: WEB_CLIENT.id,
    });
    // the ID token is not an access token for the API
    await expect(resourceServer().verify(tokens.idToken!)).rejects.toMatchObject({
      name: 'InvalidTokenError',
    });
    // a code works once
    const replay = await oauth.exchangeCode(callback, login).catch((x: unknown) => x);
    expect(replay).toBeInstanceOf(AuthorizationResponseError);
    expect(replay).toMatchObject({ error: 'invalid_grant', httpStatus: 400 });
  });

  it('signs a user in with a public client (no secret, PKCE only)', async () => {
    const oauth = new AuthorizationCodeClient({
      issuer: provider.issuer,
      clientId: PUBLIC_CLIENT.id,
      redirectUri: PUBLIC_CLIENT.redirectUri,
      allowInsecureHttp: true,
    });
    const login = await oauth.authorizationUrl();
    const tokens = await oauth.exchangeCode(
      await signIn(login.url, PUBLIC_CLIENT.redirectUri),
      login,
    );
    expect(tokens.claims).toMatchObject({ sub: 'user-42' });
  });

  it.each<[string, (l: AuthorizationRequest) => Partial<AuthorizationRequest>, string | undefined]>(
    [
      ['a state mismatch', () => ({ state: 'forged-state' }), undefined],
      ['a wrong PKCE verifier', () => ({ codeVerifier: 'x'.repeat(43) }), 'invalid_grant'],
      ['a nonce mismatch', () => ({ nonce: 'forged-nonce' }), undefined],
    ],
  )('refuses the callback on %s', async (_name, tamper, code) => {
    const oauth = webClient();
    const login = await oauth.authorizationUrl();
    const callback = await signIn(login.url, WEB_CLIENT.redirectUri);
    const e = await oauth
      .exchangeCode(callback, { ...login, ...tamper(login) })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthorizationResponseError);
    expect(e).toMatchObject({ httpStatus: 400, error: code });
  });

  it('refuses a callback that carries an error from the provider', async () => {
    const oauth = webClient();
    const login = await oauth.authorizationUrl();
    const callback = new URL(WEB_CLIENT.redirectUri);
    callback.search = new URLSearchParams({
      error: 'access_denied',
      state: login.state,
      iss: provider.issuer,
    }).toString();
    await expect(oauth.exchangeCode(callback, login)).rejects.toMatchObject({
      name: 'AuthorizationResponseError',
      error: 'access_denied',
    });
  });
});
