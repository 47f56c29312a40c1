import { Inject, Injectable } from '@nestjs/common';
import type * as client from 'openid-client';
import { AuthorizationResponseError, OidcConfigError } from './errors.js';
import {
  canonicalTokenType,
  DiscoveredClient,
  oauthErrorCode,
  openidClient,
  type OAuthClientBaseOptions,
} from './oauth-client.js';

/** Injection token of {@link AuthorizationCodeClientOptions}. */
export const AUTHORIZATION_CODE_OPTIONS = 'SECURITY:AUTHORIZATION_CODE_OPTIONS';

/** Options of {@link AuthorizationCodeClient}. */
export interface AuthorizationCodeClientOptions extends OAuthClientBaseOptions {
  /** Where the provider sends the user back (registered at the provider). */
  redirectUri: string;
  /** @default 'openid' */
  scope?: string | readonly string[];
  /** RFC 8707 resource indicator for the access token. @default none */
  resource?: string;
}

/** What to keep (server-side session, or a signed HttpOnly cookie) until the callback. */
export interface AuthorizationRequest {
  /** Send the browser here. */
  url: URL;
  state: string;
  nonce: string;
  /** PKCE verifier (RFC 7636); its S256 challenge is in the URL. */
  codeVerifier: string;
}

/** Tokens from a code exchange. */
export interface CodeExchangeResult {
  accessToken: string;
  tokenType: string;
  idToken?: string;
  refreshToken?: string;
  expiresIn?: number;
  scope?: string;
  /** Verified ID token claims (signature, iss, aud, nonce checked by openid-client). */
  claims?: Record<string, unknown>;
}

/**
 * Authorization-code + PKCE login helpers on openid-client: `authorizationUrl()` makes the
 * redirect (state, nonce, S256 code challenge), `exchangeCode()` checks the callback against what
 * was kept and exchanges the code.
 *
 * @example
 * const login = await oauth.authorizationUrl();
 * session.login = { state: login.state, nonce: login.nonce, codeVerifier: login.codeVerifier };
 * res.redirect(login.url.href);
 * // on the callback:
 * const tokens = await oauth.exchangeCode(new URL(req.originalUrl, base), session.login);
 */
@Injectable()
export class AuthorizationCodeClient {
  private readonly client: DiscoveredClient;

  constructor(
    @Inject(AUTHORIZATION_CODE_OPTIONS) private readonly options: AuthorizationCodeClientOptions,
  ) {
    this.client = new DiscoveredClient('AuthorizationCodeClient', options);
    if (typeof options.redirectUri !== 'string' || !URL.canParse(options.redirectUri)) {
      throw new OidcConfigError(
        'AuthorizationCodeClient: options.redirectUri must be an absolute URL',
      );
    }
  }

  /** Builds the authorization URL with fresh state, nonce and PKCE verifier (or the given ones). */
  async authorizationUrl(
    params: {
      scope?: string | readonly string[];
      state?: string;
      nonce?: string;
      /** Extra authorization parameters (`prompt`, `login_hint`, `ui_locales`...). */
      extra?: Record<string, string>;
    } = {},
  ): Promise<AuthorizationRequest> {
    const configuration = await this.client.get();
    const oidc = await openidClient();
    const state = params.state ?? oidc.randomState();
    const nonce = params.nonce ?? oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const scope = params.scope ?? this.options.scope ?? 'openid';
    const url = oidc.buildAuthorizationUrl(configuration, {
      ...params.extra,
      redirect_uri: this.options.redirectUri,
      response_type: 'code',
      scope: typeof scope === 'string' ? scope : scope.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...(this.options.resource ? { resource: this.options.resource } : {}),
    });
    return { url, state, nonce, codeVerifier };
  }

  /**
   * Checks the callback URL (state, `iss`, errors) and exchanges its code with the PKCE verifier.
   * @throws AuthorizationResponseError (400) for a provider error, a state/nonce mismatch or a refused exchange
   */
  async exchangeCode(
    callbackUrl: URL | string,
    expected: Pick<AuthorizationRequest, 'state' | 'codeVerifier'> & { nonce?: string },
  ): Promise<CodeExchangeResult> {
    const configuration = await this.client.get();
    const oidc = await openidClient();
    let response: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      response = await oidc.authorizationCodeGrant(
        configuration,
        typeof callbackUrl === 'string' ? new URL(callbackUrl) : callbackUrl,
        {
          pkceCodeVerifier: expected.codeVerifier,
          expectedState: expected.state,
          ...(expected.nonce !== undefined ? { expectedNonce: expected.nonce } : {}),
          idTokenExpected: expected.nonce !== undefined,
        },
      );
    } catch (e) {
      const code = oauthErrorCode(e);
      throw new AuthorizationResponseError(
        `AuthorizationCodeClient: the authorization response was refused: ${code ?? (e as Error).message}`,
        code,
        { cause: e },
      );
    }
    const expiresIn = response.expiresIn();
    const claims = response.claims();
    return {
      accessToken: response.access_token,
      tokenType: canonicalTokenType(response.token_type),
      ...(response.id_token ? { idToken: response.id_token } : {}),
      ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
      ...(expiresIn !== undefined ? { expiresIn } : {}),
      ...(typeof response.scope === 'string' ? { scope: response.scope } : {}),
      ...(claims ? { claims: { ...claims } } : {}),
    };
  }
}
