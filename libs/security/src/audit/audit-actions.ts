/**
 * Action names for the security events the libs record (use your own `domain.verb` names for
 * others). Outcome says how it went: a refused token is `auth.token.verify` with `failure`.
 */
export const AuditActions = {
  /** A user or client authenticated (or failed to). */
  login: 'auth.login',
  logout: 'auth.logout',
  /** A token was issued (client credentials, refresh). */
  tokenIssued: 'auth.token.issued',
  /** A presented token was checked: `failure` when refused (expired, bad signature, wrong audience). */
  tokenVerify: 'auth.token.verify',
  /**
   * The AuthGuard refused a request's credentials (missing, malformed, in the query string, an
   * unknown API key, a token no verifier accepts): outcome `failure`.
   */
  authenticationFailed: 'auth.authentication.failed',
  /** An access token (`jti:<id>`) or a login family (`family:<id>`: logout, reuse) was revoked. */
  tokenRevoked: 'auth.token.revoked',
  /** An old refresh token was reused: the family is revoked. */
  refreshReused: 'auth.refresh.reused',
  /** Authenticated, but lacking scope or role: outcome `denied`. */
  permissionDenied: 'auth.permission.denied',
  /** A client hit a rate limit: outcome `denied`. */
  rateLimited: 'http.rate_limited',
  /** An encryption or signing key became active. */
  keyRotated: 'crypto.key.rotated',
  /** A rotated secret was loaded. */
  secretReloaded: 'secret.reloaded',
} as const;

/** One of {@link AuditActions}. */
export type AuditAction = (typeof AuditActions)[keyof typeof AuditActions];
