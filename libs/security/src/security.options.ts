import type { SecretSource } from '@infrastructure/core';
import type { PasswordHashingOptions } from './crypto/password-hasher.js';
import type { EncryptionOptions } from './crypto/encryptor.js';
import type { ApiKeyDefinition } from './http/api-keys.js';
import type { HttpHardeningOptions } from './http/hardening.js';
import type { TokenVerifier } from './http/principal.js';
import type { JwtManagerOptions } from './jwt/jwt.options.js';
import type { OidcVerifierOptions } from './oidc/oidc-verifier.js';
import type { SecretsOptions } from './secrets/composite-secrets.provider.js';

export const SECURITY_OPTIONS = 'SECURITY:OPTIONS';

/** Rate limits of the global RateLimitGuard. */
export interface RateLimitOptions {
  /** Requests per window per user / API key / client IP. @default 100 */
  limit?: number;
  /** Window length. @default 60000 */
  ttlMs?: number;
  /** How long a client over the limit stays blocked. @default the rest of the window */
  blockMs?: number;
  /** Proxies in front of the app whose `X-Forwarded-For` entry is trusted. @default 0 */
  trustedProxies?: number;
  /**
   * IPv6 clients without credentials share one budget per network of this many bits (1-128): a
   * host usually holds a whole /64 and could otherwise use a fresh address per request. 128 =
   * per address. IPv4 clients are always per address. @default 64
   */
  ipv6Prefix?: number;
  /** Redis down or slow: let requests through (true) or refuse them (false). @default true */
  failOpen?: boolean;
  /** Longest wait for Redis per request. @default 100 */
  timeoutMs?: number;
}

/** Options of `SecurityModule.forRoot` / the factory of `forRootAsync`. */
export interface SecurityOptions {
  /** Tokens this service issues and verifies (JwtManager); `false`: none. */
  jwt?: Omit<JwtManagerOptions, 'metrics' | 'revocation'> | false;
  /** An external OpenID Connect issuer whose access tokens are accepted (OidcVerifier). */
  oidc?: OidcVerifierOptions;
  /** API keys (hashed) accepted in `x-api-key`. @default [] */
  apiKeys?: ApiKeyDefinition[];
  /** Your own verifiers (opaque tokens, …), tried after the built-in ones. */
  verifiers?: TokenVerifier[];
  /** Redis shared by rate limits and the token revocation list; unset = in memory (one instance). */
  redis?: {
    url: string;
    keyPrefix?: string;
    /**
     * The password from a rotating secret instead of the URL's: `{ name: 'REDIS_PASSWORD' }`
     * reads it from this module's SecretsProvider (`REDIS_PASSWORD_FILE`, watched), or
     * `{ secrets, name }` from another provider. The connection authenticates with its current
     * value, and every reconnection with the value of the moment (a rotation drops nothing, a
     * reconnect after it is not refused). A secret the provider does not have fails the boot.
     * @default the URL's password
     */
    password?: { name: string; secrets?: SecretSource };
    /**
     * TLS of a `rediss://` URL: the CA that signed the server's certificate (`ca`: PEM, or
     * `caFile`: its path), trusted instead of Node's default CAs; set with a `redis://` URL it
     * fails the boot. The server's certificate is always verified.
     */
    tls?: { ca?: string | Buffer; caFile?: string };
  };
  /** `false` turns the global RateLimitGuard off. */
  rateLimit?: RateLimitOptions | false;
  /** The global AuthGuard (every route needs credentials unless `@Public()`). @default true */
  authGuard?: boolean;
  /** Field/value encryption keys (Encryptor); unset = no Encryptor. */
  encryption?: EncryptionOptions;
  /** PasswordHasher parameters. @default argon2id, OWASP minimum */
  hashing?: PasswordHashingOptions;
  /** Where secrets come from (SecretsProvider). @default environment and `_FILE` files */
  secrets?: SecretsOptions;
  /** Audit log of security events (table + log stream); `false` logs nothing. @default on */
  audit?: { strict?: boolean; createTables?: boolean } | false;
  /** Used by `setupSecurity(app)`: helmet and the CORS allowlist. */
  http?: HttpHardeningOptions;
}
