/** Who made a request, as the AuthGuard established it. */
export interface Principal {
  /** `sub` of the token, the OAuth client id, or the API key's name. */
  subject: string;
  /** How it authenticated. */
  kind: 'user' | 'client' | 'api-key';
  scopes: readonly string[];
  roles: readonly string[];
  tenant?: string;
  /** The verified token claims (empty for API keys). */
  claims: Readonly<Record<string, unknown>>;
}

/**
 * Turns a bearer token into a principal, or throws `AuthenticationError`. The security lib's
 * JWT manager and OIDC verifier are adapted to this; add your own to `SecurityModule`'s
 * `verifiers` (e.g. opaque tokens with introspection).
 */
export interface TokenVerifier {
  /** Name for logs and metrics (`local-jwt`, `oidc`). */
  readonly name: string;
  /** Whether this verifier should take the token (e.g. by its `iss`), without verifying it. */
  accepts(token: string): boolean;
  verify(token: string): Promise<Principal>;
}
