import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/core';
import type { MetricsService } from '@infrastructure/monitoring';
import type { Duration } from './duration.js';
import { JwtConfigError } from './errors.js';
import {
  JWT_ALGORITHMS,
  JwtKeyring,
  type JwtAlgorithm,
  type JwtKeyringOptions,
} from './jwt-keyring.js';
import type { RevocationStore } from './revocation-store.js';

/** What to do when the revocation store does not answer (down, or slower than its timeout). */
export type FailureMode = 'open' | 'closed';

/** The claims of a token to create. Registered claims (iss, aud, exp, ...) are set by the manager. */
export interface TokenClaims {
  /** Subject (user id, or client id for service tokens). */
  sub: string;
  /** Written as the space-separated `scope` claim (RFC 9068). */
  scopes?: readonly string[];
  roles?: readonly string[];
  tenant?: string;
  /** Any other claim (must not be a registered one). */
  [claim: string]: unknown;
}

/** Options of {@link JwtManager}. */
export interface JwtManagerOptions {
  /** `iss` of created tokens; verification requires it. */
  issuer: string;
  /** Audience(s) of created access tokens; verification requires one of them unless overridden. */
  audience: string | readonly string[];
  /**
   * The keyring, or its options.
   * @default an injected JwtKeyring, else `new JwtKeyring()` (one ephemeral ES256 key)
   */
  keyring?: JwtKeyring | JwtKeyringOptions;
  /**
   * Algorithms verification accepts, further narrowing the keys' own (each key verifies only
   * with the one algorithm it is configured for, whatever the token header says).
   * @default the algorithms of the keys in the ring
   */
  algorithms?: readonly JwtAlgorithm[];
  /** @default 900 (15 minutes) */
  accessTokenTtl?: Duration;
  /** @default '14d' */
  refreshTokenTtl?: Duration;
  /** `typ` header of access tokens, required on verify. @default 'at+jwt' */
  accessTokenType?: string;
  /** `typ` header of refresh tokens. @default 'rt+jwt' */
  refreshTokenType?: string;
  /** `aud` of refresh tokens (so they are never accepted as access tokens). @default the issuer */
  refreshAudience?: string;
  /** Leeway for exp / nbf / iat, in seconds. @default 30 */
  clockToleranceSeconds?: number;
  /** Tokens longer than this are refused before parsing. @default 8192 */
  maxTokenBytes?: number;
  /**
   * Access tokens already verified, by a SHA-256 of the token: the same bearer token again skips
   * the signature and claim checks (never the revocation check) until the earlier of its `exp`
   * and `ttlSeconds`. Any key added to or removed from the keyring empties it. `false`: off.
   * @default { maxEntries: 10000, ttlSeconds: 60 }
   */
  verifiedTokenCache?: false | { maxEntries?: number; ttlSeconds?: number };
  /** Where revoked jtis and refresh families live. @default an injected RevocationStore, else memory */
  revocation?: RevocationStore;
  /**
   * Look every access token's `jti` (and login family) up in the revocation store on verify.
   * Costs one store round trip per verification.
   * @default true
   */
  checkRevocation?: boolean;
  /**
   * When the revocation store fails: `closed` refuses (503 `RevocationStoreUnavailableError`),
   * `open` accepts (and logs a warning at most once per `revocationWarnIntervalMs`).
   * @default { access: 'open', refresh: 'closed' }
   */
  revocationFailure?: { access?: FailureMode; refresh?: FailureMode };
  /** @default 60000 */
  revocationWarnIntervalMs?: number;
  /**
   * Called on each refresh with the claims of the previous access token; returns the claims of
   * the new one (reload roles, check the user still exists). Throw to refuse the refresh.
   */
  refreshClaims?: (claims: TokenClaims) => TokenClaims | Promise<TokenClaims>;
  /**
   * Records refresh-token reuse (`auth.refresh.reused`) and revocations (`auth.token.revoked`);
   * the security lib's `AuditLogger` fits (the SecurityModule passes its own). @default none
   */
  audit?: {
    record(event: {
      action: string;
      outcome: 'success' | 'failure' | 'denied';
      actor?: string;
      target?: string;
      metadata?: Record<string, unknown>;
    }): Promise<unknown>;
  };
  /** Counts `auth_tokens_verified_total{result,reason}`. */
  metrics?: MetricsService;
  /** Clock in milliseconds (tests). @default Date.now */
  clock?: () => number;
}

const duration = z.union([z.number().positive(), z.string().regex(/^\d+\s*[smhd]$/)]);
const mode = z.enum(['open', 'closed']);

const schema = z.looseObject({
  issuer: z.string().min(1, 'must be a non-empty string'),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).optional(),
  accessTokenTtl: duration.optional(),
  refreshTokenTtl: duration.optional(),
  accessTokenType: z.string().min(1).optional(),
  refreshTokenType: z.string().min(1).optional(),
  refreshAudience: z.string().min(1).optional(),
  clockToleranceSeconds: z.number().min(0).max(300).optional(),
  maxTokenBytes: z.number().int().min(256).max(1_048_576).optional(),
  checkRevocation: z.boolean().optional(),
  verifiedTokenCache: z
    .union([
      z.literal(false),
      z.object({
        maxEntries: z.number().int().min(1).max(1_000_000).optional(),
        ttlSeconds: z.number().positive().max(60).optional(),
      }),
    ])
    .optional(),
  revocationFailure: z.object({ access: mode.optional(), refresh: mode.optional() }).optional(),
  revocationWarnIntervalMs: z.number().int().min(0).optional(),
});

/** Validates the options once; a bad one throws JwtConfigError naming the key. */
export function validateJwtManagerOptions(options: JwtManagerOptions): void {
  validateModuleOptions('JwtManager', schema, options, JwtConfigError);
  if (
    options.accessTokenType !== undefined &&
    options.accessTokenType === options.refreshTokenType
  ) {
    throw new JwtConfigError(
      'JwtManager: options.refreshTokenType must differ from options.accessTokenType',
    );
  }
}
