import {
  errors,
  decodeProtectedHeader,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { InvalidTokenError, type InvalidTokenReason } from './errors.js';

/** A token that passed every check. */
export interface VerifiedToken {
  /** Subject: the user, or the client for client-credentials tokens. */
  readonly sub: string;
  /** From `scope` (space-separated, RFC 9068 / RFC 8693) or `scp` (string or array). */
  readonly scopes: string[];
  /** From the roles claim (`roles` unless configured otherwise). */
  readonly roles: string[];
  readonly tenant?: string;
  readonly jti?: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  readonly iss: string;
  /** Audiences, always as an array. */
  readonly aud: string[];
  /** `client_id` (RFC 9068) or `azp`, when present. */
  readonly clientId?: string;
  /** Key id that verified the token. */
  readonly kid: string;
  /** Every claim as received. */
  readonly claims: JWTPayload;
}

/** Where roles and tenant are read from (dotted paths, e.g. `realm_access.roles`). */
export interface ClaimMapping {
  /** @default 'roles' */
  rolesClaim?: string;
  /** @default 'tenant' */
  tenantClaim?: string;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Checks that need no key, cheapest first: size before anything is parsed (RFC 8725 §3.11 does
 * not bound it, but a 1 MB header should not reach a JSON parser), shape, `alg` (never `none`,
 * only the allowed ones) and `kid`.
 */
export function precheck(
  token: unknown,
  maxTokenBytes: number,
  allowedAlgorithms: readonly string[],
): { header: ProtectedHeaderParameters; alg: string; kid: string } {
  if (typeof token !== 'string' || token.length === 0) {
    throw new InvalidTokenError('missing', 'no token');
  }
  // Length in UTF-16 units bounds the byte length from below; a valid token is ASCII anyway.
  if (token.length > maxTokenBytes || Buffer.byteLength(token) > maxTokenBytes) {
    throw new InvalidTokenError(
      'too_large',
      `token is larger than ${maxTokenBytes} bytes (${token.length} characters)`,
    );
  }
  if (!COMPACT_JWS.test(token)) {
    throw new InvalidTokenError('malformed', 'not a compact JWS (three base64url parts)');
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (e) {
    throw new InvalidTokenError('malformed', 'the header is not base64url JSON', { cause: e });
  }
  const alg = header.alg;
  if (typeof alg !== 'string') throw new InvalidTokenError('malformed', 'the header has no alg');
  if (alg.toLowerCase() === 'none') throw new InvalidTokenError('alg_none', 'alg "none"');
  if (!allowedAlgorithms.includes(alg)) {
    throw new InvalidTokenError(
      'alg_not_allowed',
      `alg ${JSON.stringify(alg).slice(0, 40)} is not one of ${allowedAlgorithms.join(', ')}`,
    );
  }
  if (token.endsWith('.')) throw new InvalidTokenError('malformed', 'empty signature');
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0) {
    throw new InvalidTokenError('kid_missing', 'the header has no kid');
  }
  return { header, alg, kid };
}

const CLAIM_REASONS: Record<string, InvalidTokenReason> = {
  iss: 'wrong_issuer',
  aud: 'wrong_audience',
  nbf: 'not_yet_valid',
  exp: 'expired',
  typ: 'wrong_type',
  iat: 'issued_in_future',
  sub: 'missing_claim',
};

/** Maps whatever jose threw to an {@link InvalidTokenError} (never a generic error). */
export function toInvalidTokenError(e: unknown): InvalidTokenError {
  if (e instanceof InvalidTokenError) return e;
  if (e instanceof errors.JWTExpired)
    return new InvalidTokenError('expired', e.message, { cause: e });
  if (e instanceof errors.JWTClaimValidationFailed) {
    const reason =
      e.reason === 'missing'
        ? 'missing_claim'
        : e.reason === 'invalid'
          ? 'malformed'
          : (CLAIM_REASONS[e.claim] ?? 'invalid');
    return new InvalidTokenError(reason, `${e.claim}: ${e.message}`, { cause: e });
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError('bad_signature', 'signature verification failed', { cause: e });
  }
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return new InvalidTokenError('alg_not_allowed', e.message, { cause: e });
  }
  if (e instanceof errors.JWKSNoMatchingKey) {
    return new InvalidTokenError('unknown_kid', 'no key in the JWKS matches the token', {
      cause: e,
    });
  }
  if (e instanceof errors.JWKSMultipleMatchingKeys) {
    return new InvalidTokenError('unknown_kid', 'several JWKS keys match the token', { cause: e });
  }
  if (
    e instanceof errors.JWSInvalid ||
    e instanceof errors.JWTInvalid ||
    e instanceof errors.JOSENotSupported
  ) {
    return new InvalidTokenError('malformed', e.message, { cause: e });
  }
  // A key/alg type mismatch surfaces as a TypeError from jose or node:crypto.
  if (e instanceof TypeError) {
    return new InvalidTokenError('key_mismatch', e.message, { cause: e });
  }
  return new InvalidTokenError('invalid', (e as Error)?.message ?? String(e), { cause: e });
}

/**
 * `exp`, `nbf` and `iat`, where present, are finite numbers (RFC 7519 NumericDate). jose checks
 * only `typeof 'number'`, and JSON.parse turns `1e400` into Infinity: a token that never expires
 * (or was valid since forever) would pass.
 */
export function assertNumericDates(payload: JWTPayload): void {
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const value = payload[claim];
    if (value !== undefined && !Number.isFinite(value)) {
      throw new InvalidTokenError('malformed', `${claim} is not a finite NumericDate`);
    }
  }
}

/** Seconds of leeway the `iat`-in-the-future check allows (same as exp/nbf). */
export function assertIssuedInPast(payload: JWTPayload, nowSeconds: number, skew: number): void {
  if (typeof payload.iat !== 'number') {
    throw new InvalidTokenError('missing_claim', 'iat is missing');
  }
  if (payload.iat > nowSeconds + skew) {
    throw new InvalidTokenError(
      'issued_in_future',
      `iat ${payload.iat} is after now ${nowSeconds}`,
    );
  }
}

/** Builds the {@link VerifiedToken} from a verified payload. */
export function toVerifiedToken(
  payload: JWTPayload,
  kid: string,
  mapping: ClaimMapping = {},
): VerifiedToken {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new InvalidTokenError('missing_claim', 'sub is missing');
  }
  if (typeof payload.exp !== 'number') {
    throw new InvalidTokenError('missing_claim', 'exp is missing');
  }
  const tenant = claimAt(payload, mapping.tenantClaim ?? 'tenant');
  const clientId = payload.client_id ?? payload.azp;
  return {
    sub: payload.sub,
    scopes: scopesOf(payload),
    roles: stringList(claimAt(payload, mapping.rolesClaim ?? 'roles')),
    ...(typeof tenant === 'string' ? { tenant } : {}),
    ...(typeof payload.jti === 'string' ? { jti: payload.jti } : {}),
    exp: payload.exp,
    iss: payload.iss ?? '',
    aud: payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud],
    ...(typeof clientId === 'string' ? { clientId } : {}),
    kid,
    claims: payload,
  };
}

/** Scopes from `scope` (space-separated) or `scp` (array or space-separated string). */
export function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  return stringList(raw);
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
