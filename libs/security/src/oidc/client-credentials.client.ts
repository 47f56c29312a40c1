import { Inject, Injectable } from '@nestjs/common';
import type * as client from 'openid-client';
import { getLogger } from '@infrastructure/monitoring';
import { OidcConfigError, TokenRequestError } from './errors.js';
import {
  canonicalTokenType,
  DiscoveredClient,
  oauthErrorCode,
  openidClient,
  type OAuthClientBaseOptions,
} from './oauth-client.js';

/** Injection token of {@link ClientCredentialsClientOptions}. */
export const CLIENT_CREDENTIALS_OPTIONS = 'SECURITY:CLIENT_CREDENTIALS_OPTIONS';

/** Options of {@link ClientCredentialsClient}. */
export interface ClientCredentialsClientOptions extends OAuthClientBaseOptions {
  /** Scopes requested by default (space-separated or a list). @default none (the provider's default) */
  scope?: string | readonly string[];
  /** RFC 8707 resource indicator (the API the token is for). @default none */
  resource?: string;
  /**
   * A cached token is renewed this many seconds before it expires, so callers never send one that
   * dies in flight.
   * @default 30
   */
  refreshSkewSeconds?: number;
  /** Clock in milliseconds (tests). @default Date.now */
  clock?: () => number;
}

/** A service access token. */
export interface ServiceToken {
  accessToken: string;
  tokenType: string;
  /** Epoch milliseconds when the provider says it expires (undefined: not said, not cached). */
  expiresAt?: number;
  /** Granted scopes, when the provider says. */
  scope?: string;
}

/** Per-call token parameters. */
export interface ServiceTokenRequest {
  scope?: string | readonly string[];
  resource?: string;
}

/**
 * OAuth2 client-credentials tokens for service-to-service calls: acquired from the provider's
 * token endpoint (client_secret_basic or client_secret_post), cached per scope/resource until
 * `refreshSkewSeconds` before expiry, and single-flight: 100 concurrent callers with an empty
 * cache cause one token request.
 *
 * @example
 * const tokens = new ClientCredentialsClient({ issuer, clientId: 'billing', clientSecret, scope: 'orders:read' });
 * await fetch(url, { headers: { authorization: `Bearer ${await tokens.getAccessToken()}` } });
 */
@Injectable()
export class ClientCredentialsClient {
  /** Token requests sent to the provider (diagnostics, tests). */
  requests = 0;
  private readonly client: DiscoveredClient;
  private readonly cache = new Map<string, ServiceToken>();
  private readonly inFlight = new Map<string, Promise<ServiceToken>>();
  private readonly skewMs: number;
  private readonly now: () => number;
  private readonly log = getLogger('ClientCredentialsClient');

  constructor(
    @Inject(CLIENT_CREDENTIALS_OPTIONS) private readonly options: ClientCredentialsClientOptions,
  ) {
    this.client = new DiscoveredClient('ClientCredentialsClient', options);
    if (this.client.method === 'none') {
      throw new OidcConfigError(
        'ClientCredentialsClient: the client-credentials grant needs a clientSecret',
      );
    }
    const skew = options.refreshSkewSeconds ?? 30;
    if (!(skew >= 0)) {
      throw new OidcConfigError('ClientCredentialsClient: options.refreshSkewSeconds must be ≥ 0');
    }
    this.skewMs = skew * 1000;
    this.now = options.clock ?? Date.now;
  }

  /** The bearer token value, from cache when still fresh. */
  async getAccessToken(request: ServiceTokenRequest = {}): Promise<string> {
    return (await this.getToken(request)).accessToken;
  }

  /**
   * A token, from cache when still fresh (expires more than `refreshSkewSeconds` from now).
   * @throws TokenRequestError when the provider refuses or cannot be reached
   */
  getToken(request: ServiceTokenRequest = {}): Promise<ServiceToken> {
    const params = this.params(request);
    const key = new URLSearchParams(params).toString();
    const cached = this.cache.get(key);
    if (cached?.expiresAt !== undefined && cached.expiresAt - this.skewMs > this.now()) {
      return Promise.resolve(cached);
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetchToken(params).then(
        (token) => {
          this.inFlight.delete(key);
          if (token.expiresAt !== undefined) this.cache.set(key, token);
          return token;
        },
        (e: unknown) => {
          this.inFlight.delete(key);
          throw e;
        },
      );
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** Drops cached tokens (e.g. after the API answered 401 to one). */
  invalidate(request?: ServiceTokenRequest): void {
    if (request) this.cache.delete(new URLSearchParams(this.params(request)).toString());
    else this.cache.clear();
  }

  private params(request: ServiceTokenRequest): Record<string, string> {
    const scope = request.scope ?? this.options.scope;
    const resource = request.resource ?? this.options.resource;
    const params: Record<string, string> = {};
    if (scope !== undefined) params.scope = typeof scope === 'string' ? scope : scope.join(' ');
    if (resource !== undefined) params.resource = resource;
    return params;
  }

  private async fetchToken(params: Record<string, string>): Promise<ServiceToken> {
    const startedAt = this.now();
    let response: Awaited<ReturnType<typeof client.clientCredentialsGrant>>;
    try {
      const configuration = await this.client.get();
      const oidc = await openidClient();
      this.requests++;
      response = await oidc.clientCredentialsGrant(configuration, params);
    } catch (e) {
      const code = oauthErrorCode(e);
      const error = new TokenRequestError(
        `ClientCredentialsClient: token request for client "${this.options.clientId}" failed: ${code ?? (e as Error).message}`,
        code,
        { cause: e },
      );
      this.log.warn(
        { clientId: this.options.clientId, error: code, ...params },
        'Client-credentials token request failed',
      );
      throw error;
    }
    const expiresIn = response.expiresIn();
    this.log.debug(
      { clientId: this.options.clientId, expiresIn, ...params },
      'Client-credentials token acquired',
    );
    return {
      accessToken: response.access_token,
      tokenType: canonicalTokenType(response.token_type),
      ...(expiresIn !== undefined ? { expiresAt: startedAt + expiresIn * 1000 } : {}),
      ...(typeof response.scope === 'string' ? { scope: response.scope } : {}),
    };
  }
}
