import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';

/** The Standard Webhooks headers (lower case, as Node hands them over). */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** Default accepted clock difference between sender and receiver, both directions. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Standard Webhooks: symmetric keys are 24 to 64 random bytes. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const HMAC_BYTES = 32;
/** Webhook ids end up in a header and in the signed content: printable, no separators that matter. */
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,12}$/;
/** Bounds the work an attacker can cause with a long signature header. */
const MAX_SIGNATURES = 20;

/** A signing secret: `whsec_<base64>` (the prefix is optional), or the raw key bytes. */
export type WebhookSecretInput = string | Uint8Array;

/** Why a secret is unusable, or undefined when it is fine. Never echoes the secret. */
export function webhookSecretProblem(secret: string): string | undefined {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!BASE64.test(b64) || b64.length === 0) return 'must be whsec_<base64>';
  const bytes = Buffer.byteLength(b64, 'base64');
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) {
    return `must decode to ${MIN_KEY_BYTES}-${MAX_KEY_BYTES} bytes (got ${bytes})`;
  }
  return undefined;
}

/**
 * The HMAC key of a secret (`whsec_` stripped, base64 decoded).
 * @throws TypeError naming the problem, never the secret.
 */
export function webhookSecretKey(secret: WebhookSecretInput): Buffer {
  if (Buffer.isBuffer(secret)) return secret; // WebhookKeys hold Buffers: no copy per signature
  if (typeof secret !== 'string') return Buffer.from(secret);
  const problem = webhookSecretProblem(secret);
  if (problem) throw new TypeError(`webhook secret ${problem}`);
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

/** A new random secret, `whsec_` + base64 of `bytes` random bytes (24-64). */
export function generateWebhookSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) {
    throw new RangeError(`generateWebhookSecret: bytes must be ${MIN_KEY_BYTES}-${MAX_KEY_BYTES}`);
  }
  return `${SECRET_PREFIX}${randomBytes(bytes).toString('base64')}`;
}

function hmac(key: Buffer, id: string, timestamp: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/**
 * One Standard Webhooks signature: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
 * `timestamp` is unix seconds; `body` the exact bytes sent.
 */
export function signWebhook(
  secret: WebhookSecretInput,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  return `v1,${hmac(webhookSecretKey(secret), id, timestamp, body).toString('base64')}`;
}

/**
 * The three headers of a signed webhook. With several secrets (rotation) the signature header
 * holds one signature per secret, space-separated; receivers accept any that matches.
 */
export function webhookHeaders(
  secrets: readonly WebhookSecretInput[],
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): Record<(typeof WEBHOOK_HEADERS)[keyof typeof WEBHOOK_HEADERS], string> {
  if (secrets.length === 0) throw new TypeError('webhookHeaders: no secret to sign with');
  if (!WEBHOOK_ID.test(id)) throw new TypeError('webhookHeaders: id must be 1-256 printable ASCII');
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: secrets.map((s) => signWebhook(s, id, timestamp, body)).join(' '),
  };
}

/** Input of {@link verifyWebhook}. */
export interface VerifyWebhookInput {
  /** Request headers (Node's lower-case names; arrays are joined). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received. */
  body: string | Uint8Array;
  /** Accepted secrets (several during a rotation). */
  secrets: readonly WebhookSecretInput[];
  /** Accepted clock difference, both directions. @default 300 */
  toleranceSeconds?: number;
  /** Current time in unix seconds. @default now */
  now?: number;
}

/** What a verified webhook carries. */
export interface VerifiedWebhook {
  id: string;
  /** Unix seconds. */
  timestamp: number;
}

function header(headers: VerifyWebhookInput['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(' ') : value;
}

/**
 * Verifies a Standard Webhooks request: the three headers are there, the timestamp is within
 * `toleranceSeconds` of `now` (both directions), and one `v1` signature matches one secret
 * (constant-time compare). Other signature versions are ignored.
 * @throws WebhookVerificationError with reason `missing_headers`, `timestamp` or `signature`.
 */
export function verifyWebhook(input: VerifyWebhookInput): VerifiedWebhook {
  const id = header(input.headers, WEBHOOK_HEADERS.id);
  const ts = header(input.headers, WEBHOOK_HEADERS.timestamp);
  const signatures = header(input.headers, WEBHOOK_HEADERS.signature);
  if (!id || !ts || !signatures || !WEBHOOK_ID.test(id)) {
    throw new WebhookVerificationError('missing_headers');
  }
  if (!TIMESTAMP.test(ts)) throw new WebhookVerificationError('timestamp');
  const timestamp = Number(ts);
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) throw new WebhookVerificationError('timestamp');

  const candidates: Buffer[] = [];
  for (const entry of signatures.split(' ')) {
    if (candidates.length === MAX_SIGNATURES) break;
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const sig = Buffer.from(entry.slice(comma + 1), 'base64');
    if (sig.length === HMAC_BYTES) candidates.push(sig);
  }
  if (candidates.length > 0) {
    for (const secret of input.secrets) {
      const expected = hmac(webhookSecretKey(secret), id, timestamp, input.body);
      if (candidates.some((c) => timingSafeEqual(c, expected))) return { id, timestamp };
    }
  }
  throw new WebhookVerificationError('signature');
}
