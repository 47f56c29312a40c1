import {
  createHmac,
  timingSafeEqual,
  verify as verifySignature,
  type KeyObject,
} from 'node:crypto';
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { InvalidTokenError } from './errors.js';
import type { JwtAlgorithm } from './jwt-keyring.js';

/** The claim checks of a verification (what `jwtVerify`'s options said). */
export interface ClaimOptions {
  issuer: string;
  audience: readonly string[];
  /** Required `typ` header (compared the way jose does: case-insensitive, `application/` implied). */
  type: string;
  clockToleranceSeconds: number;
  nowSeconds: number;
}

type SignatureCheck = (input: Buffer, signature: Buffer, key: KeyObject) => boolean;

function hmacCheck(hash: string): SignatureCheck {
  return (input, signature, key) => {
    const expected = createHmac(hash, key).update(input).digest();
    // timingSafeEqual throws on a length mismatch; a wrong length is simply a bad signature.
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  };
}

/**
 * Each keyring algorithm bound to its node:crypto primitive. ES256 signatures are JOSE's raw
 * r||s (RFC 7518 §3.4), not DER; RS256 is RSASSA-PKCS1-v1_5 (node's default RSA padding).
 */
const SIGNATURE_CHECKS: Record<JwtAlgorithm, SignatureCheck> = {
  HS256: hmacCheck('sha256'),
  RS256: (input, signature, key) => verifySignature('sha256', input, key, signature),
  ES256: (input, signature, key) =>
    verifySignature('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature),
  EdDSA: (input, signature, key) => verifySignature(null, input, key, signature),
};

/** Header parameters jose understands in `crit` (RFC 7797 `b64`); any other is refused. */
const RECOGNIZED_CRIT = new Set(['b64']);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one base64url part (the alphabet was checked by the caller's regex). Stricter than
 * jose: besides refusing a length of 4n+1, the unused low bits of the last character must be zero,
 * so one signature has exactly one encoding (no malleable variants of a token).
 */
export function decodeBase64urlStrict(part: string, label: string): Buffer {
  const rest = part.length % 4;
  if (rest === 1) {
    throw new InvalidTokenError('malformed', `Failed to base64url decode the ${label}`);
  }
  if (rest !== 0) {
    const last = BASE64URL.indexOf(part[part.length - 1]!);
    if (last < 0 || (last & (rest === 2 ? 0x0f : 0x03)) !== 0) {
      throw new InvalidTokenError('malformed', `the ${label} is not canonical base64url`);
    }
  }
  return Buffer.from(part, 'base64url');
}

/** jose's `typ` comparison: case-insensitive, a bare media subtype means `application/<it>`. */
function normalizeTyp(value: string): string {
  const normalized = value.toLowerCase();
  return value.includes('/') ? normalized : `application/${normalized}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === null || prototype === Object.prototype;
}

/** `crit` as jose validates it; returns whether the payload is base64url (RFC 7797 `b64`). */
function checkCrit(header: ProtectedHeaderParameters): boolean {
  const crit = header.crit as unknown;
  if (crit === undefined) return true;
  if (
    !Array.isArray(crit) ||
    crit.length === 0 ||
    crit.some((p) => typeof p !== 'string' || p.length === 0)
  ) {
    throw new InvalidTokenError(
      'malformed',
      '"crit" (Critical) Header Parameter MUST be an array of non-empty strings when present',
    );
  }
  if (new Set(crit).size !== crit.length) {
    throw new InvalidTokenError(
      'malformed',
      '"crit" (Critical) Header Parameter MUST NOT contain duplicate values',
    );
  }
  for (const parameter of crit as string[]) {
    if (!RECOGNIZED_CRIT.has(parameter)) {
      throw new InvalidTokenError(
        'malformed',
        `Extension Header Parameter "${parameter.slice(0, 40)}" is not recognized`,
      );
    }
    if (!Object.hasOwn(header, parameter) || header[parameter] === undefined) {
      throw new InvalidTokenError(
        'malformed',
        `Extension Header Parameter "${parameter}" is missing`,
      );
    }
  }
  if (typeof header.b64 !== 'boolean') {
    throw new InvalidTokenError(
      'malformed',
      'The "b64" (base64url-encode payload) Header Parameter must be a boolean',
    );
  }
  return header.b64;
}

function missing(claim: string): InvalidTokenError {
  return new InvalidTokenError('missing_claim', `${claim}: missing required "${claim}" claim`);
}

function numericDate(payload: JWTPayload, claim: 'iat' | 'nbf' | 'exp'): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') {
    throw new InvalidTokenError('malformed', `${claim}: "${claim}" claim must be a number`);
  }
  return value;
}

/**
 * Verifies a compact JWS whose header `precheck` parsed and whose key (of algorithm `alg`, which
 * the caller checked equals the header's) came from the keyring, then its JWT claims: the checks
 * jose's `jwtVerify` makes, in its order, with its messages, on node:crypto instead of WebCrypto.
 * Everything wrong is an {@link InvalidTokenError} with the reason `toInvalidTokenError` gives the
 * matching jose error.
 */
export function verifyCompactJwt(
  token: string,
  header: ProtectedHeaderParameters,
  alg: JwtAlgorithm,
  key: KeyObject,
  options: ClaimOptions,
): JWTPayload {
  const b64 = checkCrit(header);
  const firstDot = token.indexOf('.');
  const lastDot = token.lastIndexOf('.');
  const signature = decodeBase64urlStrict(token.slice(lastDot + 1), 'signature');
  // The token is ASCII (precheck's regex): its UTF-16 prefix is the signing input byte for byte,
  // whether or not the payload is base64url-encoded (b64: false).
  const input = Buffer.from(token.slice(0, lastDot), 'latin1');
  let valid: boolean;
  try {
    valid = SIGNATURE_CHECKS[alg](input, signature, key);
  } catch (e) {
    throw new InvalidTokenError('bad_signature', 'signature verification failed', { cause: e });
  }
  if (!valid) throw new InvalidTokenError('bad_signature', 'signature verification failed');
  if (!b64) throw new InvalidTokenError('malformed', 'JWTs MUST NOT use unencoded payload');

  const payloadBytes = decodeBase64urlStrict(token.slice(firstDot + 1, lastDot), 'payload');
  let payload: unknown;
  try {
    payload = JSON.parse(strictUtf8.decode(payloadBytes));
  } catch (e) {
    throw new InvalidTokenError('malformed', 'JWT Claims Set must be a top-level JSON object', {
      cause: e,
    });
  }
  if (!isPlainObject(payload)) {
    throw new InvalidTokenError('malformed', 'JWT Claims Set must be a top-level JSON object');
  }
  const claims = payload as JWTPayload;

  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(options.type)) {
    throw new InvalidTokenError('wrong_type', 'typ: unexpected "typ" JWT header value');
  }
  // jose's presence order: issuer, audience, then the required claims last to first.
  for (const claim of ['iss', 'aud', 'sub', 'iat', 'exp']) {
    if (!Object.hasOwn(claims, claim)) throw missing(claim);
  }
  if (claims.iss !== options.issuer) {
    throw new InvalidTokenError('wrong_issuer', 'iss: unexpected "iss" claim value');
  }
  const aud = claims.aud as unknown;
  const audienceOk =
    typeof aud === 'string'
      ? options.audience.includes(aud)
      : Array.isArray(aud) && options.audience.some((a) => aud.includes(a));
  if (!audienceOk) {
    throw new InvalidTokenError('wrong_audience', 'aud: unexpected "aud" claim value');
  }
  const { nowSeconds: now, clockToleranceSeconds: tolerance } = options;
  numericDate(claims, 'iat');
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > now + tolerance) {
    throw new InvalidTokenError('not_yet_valid', 'nbf: "nbf" claim timestamp check failed');
  }
  const exp = numericDate(claims, 'exp');
  if (exp !== undefined && exp <= now - tolerance) {
    throw new InvalidTokenError('expired', '"exp" claim timestamp check failed');
  }
  return claims;
}
