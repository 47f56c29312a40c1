import { Inject, Injectable, Optional } from '@nestjs/common';
import { jwtVerify } from 'jose';
import { MetricsService } from '@infrastructure/monitoring';
import { InsufficientScopeError } from '../jwt/errors.js';
import {
  assertIssuedInPast,
  assertNumericDates,
  precheck,
  toInvalidTokenError,
  toVerifiedToken,
  type ClaimMapping,
  type VerifiedToken,
} from '../jwt/token-checks.js';
import { TokenMetrics } from '../jwt/token-metrics.js';
import { OidcConfigError, OidcUnavailableError } from './errors.js';
import { fetchJson } from './http-json.js';
import { REMOTE_JWS_ALGORITHMS, RemoteJwks } from './remote-jwks.js';

/** Injection token of {@link OidcVerifierOptions}. */
export const OIDC_VERIFIER_OPTIONS = 'SECURITY:OIDC_VERIFIER_OPTIONS';

/** Options of {@link OidcVerifier}. */
export interface OidcVerifierOptions extends ClaimMapping {
  /** The issuer URL (`OIDC_ISSUER_URL`); its discovery document must name the same issuer. */
  issuer: string;
  /** Audience(s) this API accepts; a token must name one of them. */
  audience: string | readonly string[];
  /** Scopes every token must carry (else 403 `insufficient_scope`). @default [] */
  requiredScopes?: readonly string[];
  /**
   * Signature algorithms accepted, intersected with the discovery document's
   * `id_token_signing_alg_values_supported` when it lists them. Never `none` nor HS*.
   * @default ['RS256', 'PS256', 'ES256', 'EdDSA']
   */
  algorithms?: readonly string[];
  /**
   * Required `typ` header: RFC 9068 access tokens are `at+jwt`. Some providers (Keycloak, Auth0,
   * Entra ID) issue `JWT`: set it, or `false` to skip the check.
   * @default 'at+jwt'
   */
  type?: string | false;
  /** Leeway for exp / nbf / iat, in seconds. @default 30 */
  clockToleranceSeconds?: number;
  /** Tokens longer than this are refused before parsing. @default 8192 */
  maxTokenBytes?: number;
  /** Cached keys older than this are refetched. @default 600000 (10 minutes) */
  jwksMaxAgeMs?: number;
  /** Least time between two JWKS fetches caused by unknown kids. @default 30000 */
  jwksCooldownMs?: number;
  /** Deadline of each discovery / JWKS request. @default 5000 */
  httpTimeoutMs?: number;
  /** Allow an `http://` issuer and JWKS (tests, local IdPs). @default false */
  allowInsecureHttp?: boolean;
  /** Discovery document URL. @default `<issuer>/.well-known/openid-configuration` */
  discoveryUrl?: string;
  /** Counts `auth_tokens_verified_total{result,reason}`. */
  metrics?: MetricsService;
  /** Clock in milliseconds (tests). @default Date.now */
  clock?: () => number;
  /** fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Per-call checks of {@link OidcVerifier.verify}. */
export interface OidcVerifyOptions {
  /** Accepted audience(s) instead of the configured ones. */
  audience?: string | readonly string[];
  /** Scopes required in addition to `requiredScopes`. */
  scopes?: readonly string[];
}

/** What the verifier learnt from the discovery document. */
export interface OidcMetadata {
  issuer: string;
  jwksUri: string;
  algorithms: string[];
  tokenEndpoint?: string;
}

const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/**
 * A resource server for one OIDC issuer: verifies bearer JWTs its provider issued. The discovery
 * document is read once (lazily, or at `ready()`), the JWKS is cached and refetched on an unknown
 * `kid` (a key rotation at the provider) at most once per cooldown; algorithms are pinned to the
 * configured asymmetric ones the provider announces; audience, scopes, `typ`, exp/nbf/iat are
 * checked. Every refused token is an {@link InvalidTokenError} (401) or
 * {@link InsufficientScopeError} (403); an unreachable provider is an {@link OidcUnavailableError}
 * (503).
 *
 * @example
 * const oidc = new OidcVerifier({ issuer: process.env.OIDC_ISSUER_URL!, audience: 'orders-api' });
 * const user = await oidc.verify(bearerToken, { scopes: ['orders:read'] });
 */
@Injectable()
export class OidcVerifier {
  private readonly issuer: string;
  private readonly audience: string[];
  private readonly requiredScopes: readonly string[];
  private readonly configuredAlgorithms: string[];
  private readonly type: string | undefined;
  private readonly skew: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly metrics: TokenMetrics;
  private metadata?: OidcMetadata;
  private discovering?: Promise<OidcMetadata>;
  private jwks?: RemoteJwks;
  private discoveryFailedAt = -Infinity;

  constructor(
    @Inject(OIDC_VERIFIER_OPTIONS) private readonly options: OidcVerifierOptions,
    @Optional() metrics?: MetricsService,
  ) {
    this.issuer = checkUrl(options.issuer, 'options.issuer', options.allowInsecureHttp);
    const audience =
      typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])];
    if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) {
      throw new OidcConfigError('OidcVerifier: options.audience must name at least one audience');
    }
    this.audience = audience;
    this.requiredScopes = options.requiredScopes ?? [];
    this.configuredAlgorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
    const unfit = this.configuredAlgorithms.filter((a) => !REMOTE_JWS_ALGORITHMS.includes(a));
    if (unfit.length > 0 || this.configuredAlgorithms.length === 0) {
      throw new OidcConfigError(
        `OidcVerifier: options.algorithms may only hold asymmetric algorithms (${REMOTE_JWS_ALGORITHMS.join(', ')}), got ${JSON.stringify(unfit)}`,
      );
    }
    this.type = options.type === false ? undefined : (options.type ?? 'at+jwt');
    this.skew = options.clockToleranceSeconds ?? 30;
    this.maxBytes = options.maxTokenBytes ?? 8192;
    this.timeoutMs = options.httpTimeoutMs ?? 5000;
    this.now = options.clock ?? Date.now;
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.metrics = new TokenMetrics(options.metrics ?? metrics);
  }

  /** Reads the discovery document and the JWKS now (boot or readiness checks). */
  async ready(): Promise<OidcMetadata> {
    const metadata = await this.discover();
    await this.jwks!.refresh('ready');
    return metadata;
  }

  /** Number of JWKS fetches so far (diagnostics, tests). */
  get jwksFetches(): number {
    return this.jwks?.fetches ?? 0;
  }

  /**
   * Verifies a bearer token from the provider.
   * @throws InvalidTokenError (401), InsufficientScopeError (403), OidcUnavailableError (503)
   */
  async verify(token: string, options: OidcVerifyOptions = {}): Promise<VerifiedToken> {
    try {
      // Size and shape first: garbage never waits for (or triggers) a provider round trip.
      precheck(token, this.maxBytes, this.configuredAlgorithms);
      const metadata = await this.discover();
      const { alg, kid } = precheck(token, this.maxBytes, metadata.algorithms);
      const key = await this.jwks!.keyFor(kid, alg);
      const nowMs = this.now();
      const audience = options.audience ?? this.audience;
      const { payload } = await jwtVerify(token, key, {
        algorithms: [alg],
        issuer: metadata.issuer,
        audience: typeof audience === 'string' ? audience : [...audience],
        ...(this.type !== undefined ? { typ: this.type } : {}),
        clockTolerance: this.skew,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      assertNumericDates(payload);
      assertIssuedInPast(payload, Math.floor(nowMs / 1000), this.skew);
      const verified = toVerifiedToken(payload, kid, this.options);
      const required = [...this.requiredScopes, ...(options.scopes ?? [])];
      const missing = required.filter((s) => !verified.scopes.includes(s));
      if (missing.length > 0) throw new InsufficientScopeError(required, verified.scopes);
      this.metrics.ok();
      return verified;
    } catch (e) {
      if (e instanceof InsufficientScopeError) {
        this.metrics.refused('insufficient_scope');
        throw e;
      }
      if (e instanceof OidcUnavailableError || e instanceof OidcConfigError) {
        this.metrics.refused('unavailable');
        throw e;
      }
      const error = toInvalidTokenError(e);
      this.metrics.refused(error.reason);
      throw error;
    }
  }

  private discover(): Promise<OidcMetadata> {
    if (this.metadata) return Promise.resolve(this.metadata);
    // Single-flight. A failure is retried at most once a second; meanwhile requests fail fast
    // (503) instead of each waiting for the provider's timeout.
    if (!this.discovering && this.now() - this.discoveryFailedAt < 1000) {
      return Promise.reject(
        new OidcUnavailableError(
          `OidcVerifier: discovery of ${this.issuer} failed, retrying shortly`,
        ),
      );
    }
    this.discovering ??= this.loadMetadata()
      .catch((e: unknown) => {
        this.discoveryFailedAt = this.now();
        throw e;
      })
      .finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  private async loadMetadata(): Promise<OidcMetadata> {
    const url =
      this.options.discoveryUrl ??
      `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const doc = await fetchJson(url, 'discovery document', this.timeoutMs, this.fetchFn);
    if (doc.issuer !== this.issuer) {
      throw new OidcConfigError(
        `OidcVerifier: the discovery document at ${url} names issuer ${JSON.stringify(doc.issuer)}, expected "${this.issuer}" (OpenID Discovery §4.3)`,
      );
    }
    if (typeof doc.jwks_uri !== 'string') {
      throw new OidcConfigError(`OidcVerifier: the discovery document at ${url} has no jwks_uri`);
    }
    const jwksUri = checkUrl(doc.jwks_uri, 'jwks_uri', this.options.allowInsecureHttp);
    const announced = doc.id_token_signing_alg_values_supported;
    const algorithms = Array.isArray(announced)
      ? this.configuredAlgorithms.filter((a) => announced.includes(a))
      : this.configuredAlgorithms;
    if (algorithms.length === 0) {
      throw new OidcConfigError(
        `OidcVerifier: the provider announces ${JSON.stringify(announced)}, none of options.algorithms (${this.configuredAlgorithms.join(', ')})`,
      );
    }
    this.jwks = new RemoteJwks({
      url: jwksUri,
      maxAgeMs: this.options.jwksMaxAgeMs ?? 600_000,
      cooldownMs: this.options.jwksCooldownMs ?? 30_000,
      timeoutMs: this.timeoutMs,
      now: this.now,
      fetch: this.fetchFn,
    });
    this.metadata = {
      issuer: this.issuer,
      jwksUri,
      algorithms,
      ...(typeof doc.token_endpoint === 'string' ? { tokenEndpoint: doc.token_endpoint } : {}),
    };
    return this.metadata;
  }
}

function checkUrl(value: unknown, what: string, allowHttp = false): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new OidcConfigError(`OidcVerifier: ${what} must be a URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new OidcConfigError(
      `OidcVerifier: ${what} must be https:// (set allowInsecureHttp for a local http provider), got "${url.protocol}"`,
    );
  }
  return String(value);
}
