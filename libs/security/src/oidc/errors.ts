/** Bad OIDC/OAuth2 client or verifier configuration (also: a discovery document that does not fit it). */
export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
}

/**
 * The identity provider (discovery document or JWKS) could not be reached and nothing usable is
 * cached: the token cannot be checked now (HTTP 503; not the caller's fault, so not a 401).
 */
export class OidcUnavailableError extends Error {
  override readonly name = 'OidcUnavailableError';
  readonly httpStatus = 503;
  readonly publicMessage = 'The identity provider is unavailable; try again shortly';
}

/**
 * The token endpoint refused or failed a request this service made (HTTP 502 if it reaches a
 * caller). `error` is the OAuth error code the provider returned (e.g. `invalid_client`), when any.
 * The message never carries the client secret.
 */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  readonly httpStatus = 502;
  readonly publicMessage = 'An upstream authorization server refused the request';

  constructor(
    message: string,
    readonly error?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The authorization response (the redirect back from the provider) is not acceptable: state
 * mismatch, an error from the provider, a failed code exchange (HTTP 400).
 */
export class AuthorizationResponseError extends Error {
  override readonly name = 'AuthorizationResponseError';
  readonly httpStatus = 400;
  readonly publicMessage = 'The sign-in could not be completed; start again';

  constructor(
    message: string,
    readonly error?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
