import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { getLogger, MetricsService } from '@infrastructure/monitoring';
import { AuditActions } from '../audit/audit-actions.js';
import { verifyCompactJwt } from './compact-verify.js';
import { durationSeconds } from './duration.js';
import {
  InvalidGrantError,
  InvalidTokenError,
  JwtConfigError,
  RevocationStoreUnavailableError,
} from './errors.js';
import { ACCESS_TOKEN_TYPE, JWT_MANAGER_OPTIONS, REFRESH_TOKEN_TYPE } from './jwt.constants.js';
import { JwtKeyring } from './jwt-keyring.js';
import {
  validateJwtManagerOptions,
  type FailureMode,
  type JwtManagerOptions,
  type TokenClaims,
} from './jwt.options.js';
import { RevocationStore } from './revocation-store.js';
import { MemoryRevocationStore } from './stores/memory-revocation.store.js';
import {
  assertIssuedInPast,
  assertNumericDates,
  precheck,
  toInvalidTokenError,
  toVerifiedToken,
  type VerifiedToken,
} from './token-checks.js';
import { TokenMetrics } from './token-metrics.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/** Per-token overrides of {@link JwtManager.createToken}. */
export interface CreateTokenOptions {
  /** Lifetime. @default the manager's `accessTokenTtl` */
  expiresIn?: number | string;
  /** @default the manager's `audience` */
  audience?: string | readonly string[];
  /** `typ` header. @default the manager's `accessTokenType` ('at+jwt') */
  type?: string;
  /** @default a random UUID */
  jti?: string;
}

/** Per-call overrides of {@link JwtManager.verify}. */
export interface VerifyOptions {
  /** Accepted audience(s). @default the manager's `audience` */
  audience?: string | readonly string[];
  /** Required `typ`. @default the manager's `accessTokenType` */
  type?: string;
}

/** What a login or a refresh returns (the shape of an OAuth token response, camel-cased). */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Access token lifetime in seconds. */
  expiresIn: number;
  /** Refresh token lifetime in seconds. */
  refreshExpiresIn: number;
  /** Granted scopes, space-separated. */
  scope: string;
  /** Login family (session) id: `revokeFamily(familyId)` logs the session out. */
  familyId: string;
}

const REGISTERED = new Set([
  'iss',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'scope',
  'scp',
  'sid',
  'fam',
  'ctx',
]);

/**
 * Creates and verifies this service's JWTs (RFC 9068 access tokens, rotating refresh tokens) with
 * a {@link JwtKeyring}, per RFC 8725: the algorithm comes from the key the `kid` names, never from
 * the header; `none`, unknown kids, wrong `typ`/`iss`/`aud`, expired or future tokens and
 * oversized input are all an {@link InvalidTokenError} (401).
 *
 * @example
 * const jwt = new JwtManager({ issuer: 'https://api.example.com', audience: 'orders-api' });
 * const token = await jwt.createToken({ sub: 'user-1', scopes: ['orders:read'] });
 * const verified = await jwt.verify(token); // { sub: 'user-1', scopes: ['orders:read'], ... }
 */
@Injectable()
export class JwtManager {
  /** The keys this manager signs and verifies with. */
  readonly keyring: JwtKeyring;
  /** The revocation store (jtis, refresh families). */
  readonly revocation: RevocationStore;
  /** Access tokens verified recently (see `verifiedTokenCache`); `undefined` when off. */
  readonly tokenCache?: VerifiedTokenCache;
  /** The keyring revision the cache's entries were verified under. */
  private cacheRevision: number;
  /** The verified-token cache's context of access tokens checked with the defaults. */
  private defaultCacheContext?: string;
  private readonly log = getLogger('JwtManager');
  private readonly metrics: TokenMetrics;
  private readonly issuer: string;
  private readonly audience: string[];
  private readonly allowed?: readonly string[];
  private readonly accessTtl: number;
  private readonly refreshTtl: number;
  private readonly accessType: string;
  private readonly refreshType: string;
  private readonly refreshAudience: string;
  private readonly skew: number;
  private readonly maxBytes: number;
  private readonly checkRevocation: boolean;
  private readonly failure: { access: FailureMode; refresh: FailureMode };
  private readonly warnInterval: number;
  private readonly now: () => number;
  private lastWarnAt = -Infinity;
  private readonly ownsKeyring: boolean;

  constructor(
    @Inject(JWT_MANAGER_OPTIONS) private readonly options: JwtManagerOptions,
    @Optional() keyring?: JwtKeyring,
    @Optional() revocation?: RevocationStore,
    @Optional() metrics?: MetricsService,
  ) {
    validateJwtManagerOptions(options);
    this.revocation = options.revocation ?? revocation ?? new MemoryRevocationStore();
    this.metrics = new TokenMetrics(options.metrics ?? metrics);
    this.issuer = options.issuer;
    this.audience =
      typeof options.audience === 'string' ? [options.audience] : [...options.audience];
    this.allowed = options.algorithms;
    this.accessTtl = durationSeconds(
      options.accessTokenTtl ?? 900,
      'JwtManager: options.accessTokenTtl',
    );
    this.refreshTtl = durationSeconds(
      options.refreshTokenTtl ?? '14d',
      'JwtManager: options.refreshTokenTtl',
    );
    this.accessType = options.accessTokenType ?? ACCESS_TOKEN_TYPE;
    this.refreshType = options.refreshTokenType ?? REFRESH_TOKEN_TYPE;
    this.refreshAudience = options.refreshAudience ?? options.issuer;
    this.skew = options.clockToleranceSeconds ?? 30;
    const ring = options.keyring ?? keyring;
    this.ownsKeyring = !(ring instanceof JwtKeyring);
    // A key replaced by a rotated secret verifies as long as a token it signed can live.
    this.keyring =
      ring instanceof JwtKeyring
        ? ring
        : new JwtKeyring({
            rotatedKeyTtlSeconds: Math.max(this.accessTtl, this.refreshTtl) + this.skew,
            ...ring,
          });
    this.maxBytes = options.maxTokenBytes ?? 8192;
    this.checkRevocation = options.checkRevocation ?? true;
    this.failure = {
      access: options.revocationFailure?.access ?? 'open',
      refresh: options.revocationFailure?.refresh ?? 'closed',
    };
    this.warnInterval = options.revocationWarnIntervalMs ?? 60_000;
    this.now = options.clock ?? Date.now;
    if (options.verifiedTokenCache !== false) {
      this.tokenCache = new VerifiedTokenCache(
        options.verifiedTokenCache?.maxEntries ?? 10_000,
        (options.verifiedTokenCache?.ttlSeconds ?? 60) * 1000,
      );
    }
    this.cacheRevision = this.keyring.revision;
    const signAlg = this.keyring.activeAlgorithm;
    if (this.allowed && !this.allowed.includes(signAlg)) {
      throw new JwtConfigError(
        `JwtManager: the active key signs with ${signAlg}, which options.algorithms (${this.allowed.join(', ')}) does not allow`,
      );
    }
  }

  /**
   * Signs an access token with the active key: `sub`, `scope` (space-separated), `roles`,
   * `tenant`, custom claims, and `iss`, `aud`, `iat`, `exp`, `jti` set by the manager.
   * @throws TypeError when a custom claim is a registered one (iss, aud, exp, ...)
   */
  async createToken(claims: TokenClaims, options: CreateTokenOptions = {}): Promise<string> {
    const ttl =
      options.expiresIn === undefined
        ? this.accessTtl
        : durationSeconds(options.expiresIn, 'createToken: expiresIn');
    return this.sign(accessPayload(claims), {
      ttl,
      audience: options.audience ?? this.audience,
      type: options.type ?? this.accessType,
      jti: options.jti,
    });
  }

  /**
   * Verifies an access token (or another `typ` given in `options`) and returns its claims.
   * @throws InvalidTokenError (401) whatever is wrong with the token
   * @throws RevocationStoreUnavailableError (503) when the store fails and access checks fail closed
   */
  async verify(token: string, options: VerifyOptions = {}): Promise<VerifiedToken> {
    let verified: VerifiedToken;
    try {
      verified = this.verifyCached(token, {
        audience: options.audience ?? this.audience,
        type: options.type ?? this.accessType,
      });
      // Cached or not, every request asks the revocation store.
      if (this.checkRevocation && verified.jti) {
        const ids = [`at:${verified.jti}`];
        if (typeof verified.claims.sid === 'string') ids.push(`fam:${verified.claims.sid}`);
        if (await this.isRevoked(ids, this.failure.access)) {
          throw new InvalidTokenError('revoked', `jti ${verified.jti} is revoked`);
        }
      }
    } catch (e) {
      if (e instanceof RevocationStoreUnavailableError) {
        this.metrics.refused('unavailable');
        throw e;
      }
      const error = toInvalidTokenError(e);
      this.metrics.refused(error.reason);
      throw error;
    }
    this.metrics.ok();
    return verified;
  }

  /**
   * Starts a login family: an access token and a refresh token. Each `refresh()` replaces both;
   * reusing a refresh token revokes the family.
   */
  async issueTokens(claims: TokenClaims, options: CreateTokenOptions = {}): Promise<TokenPair> {
    return this.issuePair(claims, randomUUID(), options);
  }

  /**
   * A refresh token for `sub` alone (a new family unless `familyId` is given). `claims` are what
   * the access tokens it is exchanged for will carry (default: just `sub`).
   */
  async issueRefreshToken(
    sub: string,
    options: { claims?: Omit<TokenClaims, 'sub'>; familyId?: string } = {},
  ): Promise<string> {
    const context = accessPayload({ ...options.claims, sub });
    return this.sign(
      { sub, fam: options.familyId ?? randomUUID(), ctx: context },
      { ttl: this.refreshTtl, audience: [this.refreshAudience], type: this.refreshType },
    );
  }

  /**
   * Exchanges a refresh token for a new access + refresh pair (rotation). A refresh token works
   * once: presenting a used one again revokes its whole family (every token descended from the
   * same login, access tokens included) and fails.
   * @throws InvalidGrantError (400 `invalid_grant`): invalid, expired, revoked or reused
   * @throws RevocationStoreUnavailableError (503) when the store fails (fail-closed by default)
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const verified = await this.verifyRefreshToken(refreshToken);
    const family = verified.claims.fam as string;
    if (await this.isRevoked([`fam:${family}`], this.failure.refresh)) {
      throw new InvalidGrantError('family_revoked', `family ${family} is revoked`);
    }
    const remaining = Math.max(1, verified.exp - this.nowSeconds() + this.skew);
    const first = await this.guard(
      () => this.revocation.revoke(`rt:${verified.jti}`, remaining),
      this.failure.refresh,
      true,
    );
    if (!first) {
      await this.revokeFamily(family, { audit: false });
      this.record({
        action: AuditActions.refreshReused,
        outcome: 'denied',
        actor: verified.sub,
        target: `family:${family}`,
        metadata: { jti: verified.jti },
      });
      this.log.warn(
        { sub: verified.sub, familyId: family, jti: verified.jti },
        'JwtManager: refresh token reused, its family is revoked',
      );
      throw new InvalidGrantError('reused', `refresh token ${verified.jti} was used already`);
    }
    const previous = claimsFromPayload(verified.claims.ctx as JWTPayload, verified.sub);
    const claims = this.options.refreshClaims
      ? await this.options.refreshClaims(previous)
      : previous;
    return this.issuePair(claims, family, {});
  }

  /**
   * Ends a login: revokes the family of this refresh token (idempotent).
   * @throws InvalidGrantError when the token is not a valid refresh token
   */
  async logout(refreshToken: string): Promise<void> {
    const verified = await this.verifyRefreshToken(refreshToken);
    await this.revokeFamily(verified.claims.fam as string);
  }

  /** Revokes every refresh and access token of a login family (for the refresh token lifetime). */
  async revokeFamily(familyId: string, internal: { audit?: boolean } = {}): Promise<void> {
    await this.guard(
      () => this.revocation.revoke(`fam:${familyId}`, this.refreshTtl + this.skew),
      'closed',
      true,
    );
    if (internal.audit !== false) {
      this.record({
        action: AuditActions.tokenRevoked,
        outcome: 'success',
        target: `family:${familyId}`,
      });
    }
  }

  /** Revokes one access token by `jti` until its `exp` (e.g. from `verify()`'s result). */
  async revoke(token: Pick<VerifiedToken, 'jti' | 'exp'>): Promise<void> {
    if (!token.jti) throw new TypeError('JwtManager.revoke: the token has no jti');
    const ttl = Math.max(1, token.exp - this.nowSeconds() + this.skew);
    await this.guard(() => this.revocation.revoke(`at:${token.jti}`, ttl), 'closed', true);
    this.record({
      action: AuditActions.tokenRevoked,
      outcome: 'success',
      ...('sub' in token && typeof token.sub === 'string' ? { actor: token.sub } : {}),
      target: `jti:${token.jti}`,
    });
  }

  /** Audits without holding the caller up (an audit outage must not fail a revocation). */
  private record(event: Parameters<NonNullable<JwtManagerOptions['audit']>['record']>[0]): void {
    void this.options.audit?.record(event).catch(() => undefined);
  }

  /** Nest lifecycle: a keyring this manager made stops following its secrets. */
  onModuleDestroy(): void {
    if (this.ownsKeyring) this.keyring.close();
  }

  /** The public JWKS of the keyring (for `GET /.well-known/jwks.json`). */
  jwks(): ReturnType<JwtKeyring['jwks']> {
    return this.keyring.jwks();
  }

  private async verifyRefreshToken(token: string): Promise<VerifiedToken & { jti: string }> {
    let verified: VerifiedToken;
    try {
      verified = this.verifySignedToken(token, {
        audience: [this.refreshAudience],
        type: this.refreshType,
      });
    } catch (e) {
      const error = toInvalidTokenError(e);
      throw new InvalidGrantError(error.reason, error.message, { cause: error });
    }
    if (
      !verified.jti ||
      typeof verified.claims.fam !== 'string' ||
      !isObject(verified.claims.ctx)
    ) {
      throw new InvalidGrantError('malformed', 'refresh token lacks jti, fam or ctx');
    }
    return verified as VerifiedToken & { jti: string };
  }

  private async issuePair(
    claims: TokenClaims,
    family: string,
    options: CreateTokenOptions,
  ): Promise<TokenPair> {
    const payload: JWTPayload = { ...accessPayload(claims), sid: family };
    const ttl =
      options.expiresIn === undefined
        ? this.accessTtl
        : durationSeconds(options.expiresIn, 'issueTokens: expiresIn');
    const [accessToken, refreshToken] = await Promise.all([
      this.sign(payload, {
        ttl,
        audience: options.audience ?? this.audience,
        type: options.type ?? this.accessType,
      }),
      this.sign(
        { sub: claims.sub, fam: family, ctx: accessPayload(claims) },
        { ttl: this.refreshTtl, audience: [this.refreshAudience], type: this.refreshType },
      ),
    ]);
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: ttl,
      refreshExpiresIn: this.refreshTtl,
      scope: typeof payload.scope === 'string' ? payload.scope : '',
      familyId: family,
    };
  }

  private async sign(
    payload: JWTPayload,
    opts: { ttl: number; audience: string | readonly string[]; type: string; jti?: string },
  ): Promise<string> {
    const { kid, alg, key } = this.keyring.signingKey();
    const iat = this.nowSeconds();
    const aud = typeof opts.audience === 'string' ? opts.audience : [...opts.audience];
    return new SignJWT({
      ...payload,
      iss: this.issuer,
      aud: Array.isArray(aud) && aud.length === 1 ? aud[0] : aud,
      iat,
      exp: iat + opts.ttl,
      jti: opts.jti ?? randomUUID(),
    })
      .setProtectedHeader({ alg, kid, typ: opts.type })
      .sign(key);
  }

  /** {@link verifySignedToken} through the cache of verified tokens. */
  private verifyCached(
    token: string,
    opts: { audience: string | readonly string[]; type: string },
  ): VerifiedToken {
    const cache = this.tokenCache;
    // Oversized or non-string input goes straight to the checks that refuse it (never hashed).
    if (!cache || typeof token !== 'string' || token.length > this.maxBytes) {
      return this.verifySignedToken(token, opts);
    }
    const revision = this.keyring.revision;
    if (revision !== this.cacheRevision) {
      // A key left (or joined) the ring: what it verified must be verified again.
      cache.clear();
      this.cacheRevision = revision;
    }
    const context =
      opts.audience === this.audience && opts.type === this.accessType
        ? (this.defaultCacheContext ??= cacheContext(opts.type, opts.audience))
        : cacheContext(opts.type, opts.audience);
    const key = VerifiedTokenCache.key(context, token);
    const nowMs = this.now();
    const hit = cache.get(key, nowMs);
    if (hit) return hit;
    const verified = this.verifySignedToken(token, opts);
    cache.set(key, verified, nowMs);
    return verified;
  }

  /** Signature and claims, no revocation. */
  private verifySignedToken(
    token: string,
    opts: { audience: string | readonly string[]; type: string },
  ): VerifiedToken {
    const allowed = this.allowed ?? this.keyring.algorithms();
    const { header, alg, kid } = precheck(token, this.maxBytes, allowed);
    const key = this.keyring.verificationKey(kid);
    if (!key)
      throw new InvalidTokenError(
        'unknown_kid',
        `kid ${JSON.stringify(kid).slice(0, 80)} is not in the keyring`,
      );
    // The key decides the algorithm: an HS256 token naming an RS256 key's kid never gets
    // verified with that key's public half as an HMAC secret.
    if (key.alg !== alg) {
      throw new InvalidTokenError(
        'key_mismatch',
        `key ${kid} is ${key.alg}, the token says ${alg}`,
      );
    }
    const nowMs = this.now();
    const payload = verifyCompactJwt(token, header, key.alg, key.key, {
      issuer: this.issuer,
      audience: typeof opts.audience === 'string' ? [opts.audience] : opts.audience,
      type: opts.type,
      clockToleranceSeconds: this.skew,
      nowSeconds: Math.floor(nowMs / 1000),
    });
    assertNumericDates(payload);
    assertIssuedInPast(payload, Math.floor(nowMs / 1000), this.skew);
    return toVerifiedToken(payload, kid);
  }

  private isRevoked(ids: string[], mode: FailureMode): Promise<boolean> {
    return this.guard(() => this.revocation.isRevoked(ids), mode, false);
  }

  /** Runs a store operation; on failure refuses (closed) or answers `openValue` (open). */
  private async guard<T>(op: () => Promise<T>, mode: FailureMode, openValue: T): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (mode === 'closed') {
        throw e instanceof RevocationStoreUnavailableError
          ? e
          : new RevocationStoreUnavailableError((e as Error).message, { cause: e });
      }
      const now = this.now();
      if (now - this.lastWarnAt >= this.warnInterval) {
        this.lastWarnAt = now;
        this.log.warn(
          { err: e },
          'JwtManager: revocation store unavailable, accepting tokens without the revocation check (fail-open)',
        );
      }
      return openValue;
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

/** `sub`, `scope`, `roles`, `tenant` and custom claims, as a JWT payload. */
function accessPayload(claims: TokenClaims): JWTPayload {
  const { sub, scopes, roles, tenant, ...custom } = claims;
  if (typeof sub !== 'string' || sub === '')
    throw new TypeError('token claims need a non-empty sub');
  for (const name of Object.keys(custom)) {
    if (REGISTERED.has(name)) {
      throw new TypeError(`token claim "${name}" is set by the JwtManager, not by the caller`);
    }
  }
  return {
    ...custom,
    sub,
    ...(scopes && scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    ...(roles && roles.length > 0 ? { roles: [...roles] } : {}),
    ...(tenant !== undefined ? { tenant } : {}),
  };
}

/** The inverse of {@link accessPayload}: what a refresh token's `ctx` says the claims were. */
function claimsFromPayload(ctx: JWTPayload, sub: string): TokenClaims {
  const { scope, roles, tenant, sub: _sub, ...custom } = ctx;
  return {
    ...custom,
    sub,
    ...(typeof scope === 'string' ? { scopes: scope.split(' ').filter(Boolean) } : {}),
    ...(Array.isArray(roles) ? { roles: roles.filter((r) => typeof r === 'string') } : {}),
    ...(typeof tenant === 'string' ? { tenant } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a verified-token cache entry was checked against: the `typ` and the audiences. */
function cacheContext(type: string, audience: string | readonly string[]): string {
  return JSON.stringify([type, ...(typeof audience === 'string' ? [audience] : audience)]);
}
