/**
 * Why a token was refused. Bounded (safe as a metric label); the free-text detail lives in the
 * error's `message`, which is for logs and audit only.
 */
export type InvalidTokenReason =
  | 'missing'
  | 'too_large'
  | 'malformed'
  | 'alg_none'
  | 'alg_not_allowed'
  | 'kid_missing'
  | 'unknown_kid'
  | 'key_mismatch'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_type'
  | 'missing_claim'
  | 'revoked'
  | 'invalid';

const EXPIRED_DESCRIPTION = 'The access token expired';
const INVALID_DESCRIPTION = 'The access token is invalid';

function quoted(value: string): string {
  return value.replace(/["\\]/g, '');
}

/**
 * A bearer token was refused (RFC 6750 `invalid_token`, HTTP 401). `reason` and `message` say
 * why, for logs and audit records; `publicMessage` (what the problem-details filter shows) and the
 * `WWW-Authenticate` header carry only a safe description.
 */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  /** RFC 6750 error code. */
  readonly error = 'invalid_token';
  readonly httpStatus = 401;
  /** Safe to show to the caller: says "expired" or "invalid", never which check failed. */
  readonly publicMessage: string;

  constructor(
    readonly reason: InvalidTokenReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid token (${reason}): ${detail}`, options);
    this.publicMessage = reason === 'expired' ? EXPIRED_DESCRIPTION : INVALID_DESCRIPTION;
  }

  /** `WWW-Authenticate` for the 401 (RFC 6750 §3); the guard may add a realm. */
  get httpHeaders(): Record<string, string> {
    return {
      'WWW-Authenticate': `Bearer error="${this.error}", error_description="${quoted(this.publicMessage)}"`,
    };
  }
}

/**
 * The token is valid but lacks a scope the resource requires (RFC 6750 `insufficient_scope`,
 * HTTP 403).
 */
export class InsufficientScopeError extends Error {
  override readonly name = 'InsufficientScopeError';
  readonly error = 'insufficient_scope';
  readonly httpStatus = 403;
  readonly publicMessage = 'The access token lacks a required scope';

  constructor(
    readonly requiredScopes: readonly string[],
    readonly grantedScopes: readonly string[],
  ) {
    super(
      `Insufficient scope: requires [${requiredScopes.join(' ')}], token has [${grantedScopes.join(' ')}]`,
    );
  }

  get httpHeaders(): Record<string, string> {
    return {
      'WWW-Authenticate': `Bearer error="${this.error}", error_description="${this.publicMessage}", scope="${quoted(this.requiredScopes.join(' '))}"`,
    };
  }
}

/** Why a refresh token was refused. */
export type InvalidGrantReason = InvalidTokenReason | 'reused' | 'family_revoked' | 'denied';

/**
 * A refresh token was refused (RFC 6749 §5.2 `invalid_grant`, HTTP 400): invalid, expired,
 * revoked, or reused (which also revoked its whole family).
 */
export class InvalidGrantError extends Error {
  override readonly name = 'InvalidGrantError';
  readonly error = 'invalid_grant';
  readonly httpStatus = 400;
  readonly publicMessage = 'The refresh token is invalid, expired or revoked';

  constructor(
    readonly reason: InvalidGrantReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid refresh token (${reason}): ${detail}`, options);
  }
}

/**
 * The revocation store could not answer in time and the configured failure mode is "closed"
 * (HTTP 503, OAuth `temporarily_unavailable`).
 */
export class RevocationStoreUnavailableError extends Error {
  override readonly name = 'RevocationStoreUnavailableError';
  readonly error = 'temporarily_unavailable';
  readonly httpStatus = 503;
  readonly publicMessage = 'Token revocation cannot be checked right now; try again shortly';
}

/** Bad JWT/keyring configuration or key material; the message names the option or key id. */
export class JwtConfigError extends Error {
  override readonly name = 'JwtConfigError';
}
