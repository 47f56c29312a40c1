import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import { getLogger } from '@infrastructure/monitoring';
import { InvalidTokenError } from '../jwt/errors.js';
import { OidcUnavailableError } from './errors.js';
import { fetchJson } from './http-json.js';

/** Key types each algorithm may be verified with (RFC 7518); `oct` never appears: no HS*. */
const KTY_OF: Record<string, { kty: string; crv?: string }> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

/** Asymmetric JWS algorithms a remote JWKS may be used with. */
export const REMOTE_JWS_ALGORITHMS = Object.keys(KTY_OF);

export interface RemoteJwksOptions {
  url: string;
  /** Keys older than this are refetched before use (stale keys serve if the refetch fails). */
  maxAgeMs: number;
  /** Least time between two fetches caused by unknown kids. */
  cooldownMs: number;
  timeoutMs: number;
  now: () => number;
  fetch: typeof fetch;
}

/**
 * A remote JWKS, cached: fetched on first use, refetched when older than `maxAgeMs`, and when a
 * token names an unknown `kid` (a key rotation at the provider) at most once per `cooldownMs`,
 * so a flood of made-up kids costs one fetch per cooldown. Concurrent misses share one fetch.
 */
export class RemoteJwks {
  /** Number of JWKS fetches made (for tests and diagnostics). */
  fetches = 0;
  private keys = new Map<string, JWK>();
  private imported = new Map<string, Promise<CryptoKey | KeyObject | Uint8Array>>();
  private fetchedAt = -Infinity;
  private lastAttemptAt = -Infinity;
  private inFlight?: Promise<void>;
  private readonly log = getLogger('OidcVerifier');

  constructor(private readonly options: RemoteJwksOptions) {}

  /** The key `kid` names, imported for `alg`; throws InvalidTokenError for unknown or unfit keys. */
  async keyFor(kid: string, alg: string): Promise<CryptoKey | KeyObject | Uint8Array> {
    const now = this.options.now();
    const sinceAttempt = now - this.lastAttemptAt;
    if (this.fetchedAt === -Infinity) {
      // Never loaded: a failing provider is retried at most once a second, and meanwhile
      // requests fail fast (503) instead of each waiting for a timeout.
      if (sinceAttempt < Math.min(this.options.cooldownMs, 1000)) {
        throw new OidcUnavailableError(`JWKS ${this.options.url} could not be loaded yet`);
      }
      await this.refresh('first use');
    } else if (
      now - this.fetchedAt >= this.options.maxAgeMs &&
      sinceAttempt >= Math.min(this.options.cooldownMs, this.options.maxAgeMs)
    ) {
      // Stale keys are refreshed; if the provider fails they keep serving.
      await this.refresh('expired', true);
    }
    if (!this.keys.has(kid) && this.options.now() - this.lastAttemptAt >= this.options.cooldownMs) {
      await this.refresh('unknown kid', true);
    }
    const jwk = this.keys.get(kid);
    if (!jwk) {
      throw new InvalidTokenError(
        'unknown_kid',
        `kid ${JSON.stringify(kid).slice(0, 80)} is not in the provider's JWKS`,
      );
    }
    const fit = KTY_OF[alg];
    if (
      !fit ||
      jwk.kty !== fit.kty ||
      (fit.crv && jwk.crv !== fit.crv) ||
      (jwk.alg && jwk.alg !== alg)
    ) {
      throw new InvalidTokenError(
        'key_mismatch',
        `key ${kid} (${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}${jwk.alg ? ` ${jwk.alg}` : ''}) cannot verify ${alg}`,
      );
    }
    const cacheKey = `${kid}\u0000${alg}`;
    let key = this.imported.get(cacheKey);
    if (!key) {
      key = importJWK({ ...jwk, alg }, alg);
      this.imported.set(cacheKey, key);
      key.catch(() => this.imported.delete(cacheKey));
    }
    try {
      return await key;
    } catch (e) {
      throw new InvalidTokenError('key_mismatch', `key ${kid} cannot be imported for ${alg}`, {
        cause: e,
      });
    }
  }

  /** Fetches now (single-flight). With `tolerateFailure`, a failure keeps the old keys. */
  async refresh(why: string, tolerateFailure = false): Promise<void> {
    this.inFlight ??= this.load(why).finally(() => (this.inFlight = undefined));
    try {
      await this.inFlight;
    } catch (e) {
      if (!tolerateFailure) throw e;
      this.log.warn(
        { err: e, url: this.options.url },
        'OidcVerifier: JWKS refetch failed, keeping the cached keys',
      );
    }
  }

  private async load(why: string): Promise<void> {
    this.lastAttemptAt = this.options.now();
    this.fetches++;
    const body = await fetchJson(
      this.options.url,
      'JWKS',
      this.options.timeoutMs,
      this.options.fetch,
    );
    const next = new Map<string, JWK>();
    for (const jwk of Array.isArray(body.keys) ? (body.keys as JWK[]) : []) {
      if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string') continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      // Never a symmetric key from a remote document, and never private members.
      if (jwk.kty === 'oct' || 'd' in jwk) continue;
      next.set(jwk.kid, jwk);
    }
    const added = [...next.keys()].filter((kid) => !this.keys.has(kid));
    const removed = [...this.keys.keys()].filter((kid) => !next.has(kid));
    this.keys = next;
    this.imported = new Map();
    this.fetchedAt = this.options.now();
    if (added.length > 0 || removed.length > 0) {
      this.log.info(
        { reason: why, added, removed, kids: [...next.keys()] },
        'OidcVerifier: JWKS loaded',
      );
    }
  }
}
