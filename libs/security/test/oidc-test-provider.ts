import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Provider } from 'oidc-provider';

/** The resource server (API) the provider issues JWT access tokens for. */
export const API_AUDIENCE = 'https://orders-api.test';
export const API_SCOPES = 'orders:read orders:write';
export const SERVICE_CLIENT = { id: 'billing-service', secret: 'billing-secret-0123456789abcdef' };
export const POST_CLIENT = { id: 'post-service', secret: 'post-secret-0123456789abcdef' };
export const WEB_CLIENT = {
  id: 'web-app',
  secret: 'web-secret-0123456789abcdef',
  redirectUri: 'http://127.0.0.1:65000/callback',
};
export const PUBLIC_CLIENT = { id: 'spa', redirectUri: 'http://127.0.0.1:65000/spa-callback' };

export interface PrivateJwk {
  kid: string;
  kty: string;
  [member: string]: unknown;
}

/** An ES256 signing key for the provider's JWKS. */
export function newProviderKey(kid: string): PrivateJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ...(privateKey.export({ format: 'jwk' }) as { kty: string }),
    kid,
    alg: 'ES256',
    use: 'sig',
  };
}

/**
 * A real oidc-provider on 127.0.0.1 (random port): client-credentials and authorization-code
 * (+PKCE) grants, JWT access tokens for {@link API_AUDIENCE}. `setKeys()` swaps the provider's
 * keys without changing its URL (a new Provider instance behind the same server: the verifier
 * under test is what must not restart). Requests are counted per path.
 */
export class TestOidcProvider {
  readonly requests = new Map<string, number>();
  issuer = '';
  private server?: Server;
  private provider: any;
  private accountId = 'user-42';
  private tokenTtl = 300;

  async start(keys: PrivateJwk[]): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    this.setKeys(keys);
    return this;
  }

  /** Publishes these keys (the first signs) from now on. */
  setKeys(keys: PrivateJwk[]): void {
    this.provider = this.build(keys);
  }

  /** Lifetime of access tokens issued from now on (seconds). */
  setTokenTtl(seconds: number): void {
    this.tokenTtl = seconds;
  }

  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    try {
      if (path.startsWith('/interaction/')) return await this.interact(req, res);
      this.provider.callback()(req, res);
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  }

  /** Logs the test user in and grants what the client asked for, without any page. */
  private async interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (prompt.name === 'login') {
      await this.provider.interactionFinished(
        req,
        res,
        { login: { accountId: this.accountId } },
        {
          mergeWithLastSubmission: false,
        },
      );
      return;
    }
    const grant = new this.provider.Grant({
      accountId: session.accountId,
      clientId: params.client_id,
    });
    grant.addOIDCScope(String(params.scope));
    if (params.resource) grant.addResourceScope(String(params.resource), API_SCOPES);
    grant.addResourceScope(API_AUDIENCE, API_SCOPES);
    const grantId = await grant.save();
    await this.provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      {
        mergeWithLastSubmission: true,
      },
    );
  }

  private build(keys: PrivateJwk[]): any {
    const ttl = () => this.tokenTtl;
    const provider = new Provider(this.issuer, {
      clients: [
        {
          client_id: SERVICE_CLIENT.id,
          client_secret: SERVICE_CLIENT.secret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: POST_CLIENT.id,
          client_secret: POST_CLIENT.secret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_post',
        },
        {
          client_id: WEB_CLIENT.id,
          client_secret: WEB_CLIENT.secret,
          grant_types: ['authorization_code'],
          redirect_uris: [WEB_CLIENT.redirectUri],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: PUBLIC_CLIENT.id,
          grant_types: ['authorization_code'],
          redirect_uris: [PUBLIC_CLIENT.redirectUri],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        },
      ],
      jwks: { keys },
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      scopes: ['openid', 'profile', 'orders:read', 'orders:write'],
      claims: { openid: ['sub'], profile: ['name'] },
      findAccount: (_ctx: unknown, accountId: string) => ({
        accountId,
        claims: () => ({ sub: accountId, name: 'Test User' }),
      }),
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      ttl: { ClientCredentials: ttl, AccessToken: ttl },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => API_AUDIENCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: API_SCOPES,
            audience: API_AUDIENCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttl(),
            jwt: { sign: { alg: 'ES256' } },
          }),
        },
      },
    });
    // Quiet: the provider logs server errors through its event emitter only.
    provider.on('server_error', (_ctx: unknown, e: Error) => console.error('oidc-provider', e));
    return provider;
  }
}
