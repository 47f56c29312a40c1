/** RFC 6750 error codes of a bearer challenge. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

function challenge(realm: string, error?: BearerErrorCode, description?: string, scope?: string) {
  const parts = [`realm="${realm}"`];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${description.replace(/["\\\\]/g, '')}"`);
  if (scope) parts.push(`scope="${scope}"`);
  return `Bearer ${parts.join(', ')}`;
}

/**
 * 401: no credentials, or credentials that do not verify. Carries the `WWW-Authenticate`
 * challenge (RFC 6750) as `httpHeaders`, which the monitoring lib's problem filter sends.
 * `reason` is for logs and the audit record only, never for the response.
 */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  readonly httpStatus = 401;
  readonly publicMessage: string;
  readonly httpHeaders: Record<string, string>;

  constructor(
    readonly reason: string,
    options: { code?: BearerErrorCode; realm?: string; publicMessage?: string } = {},
  ) {
    super(reason);
    this.publicMessage =
      options.publicMessage ??
      (options.code
        ? 'The access token is missing, malformed, expired or not accepted.'
        : 'Authentication required.');
    this.httpHeaders = {
      'WWW-Authenticate': challenge(
        options.realm ?? 'api',
        options.code,
        options.code ? this.publicMessage : undefined,
      ),
    };
  }
}

/** 403: authenticated, but without the scope or role the route needs. */
export class AccessDeniedError extends Error {
  override readonly name = 'AccessDeniedError';
  readonly httpStatus = 403;
  readonly publicMessage: string;
  readonly httpHeaders: Record<string, string>;

  constructor(
    readonly reason: string,
    options: { requiredScopes?: readonly string[]; realm?: string } = {},
  ) {
    super(reason);
    const scope = options.requiredScopes?.join(' ');
    this.publicMessage = scope
      ? `This operation needs the scope(s): ${scope}.`
      : 'You are not allowed to do this.';
    this.httpHeaders = scope
      ? {
          'WWW-Authenticate': challenge(
            options.realm ?? 'api',
            'insufficient_scope',
            'The access token lacks a required scope.',
            scope,
          ),
        }
      : {};
  }
}
