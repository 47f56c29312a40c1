import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import type { ApiKeyDefinition } from './http/api-keys.js';
import type { JwtKeyConfig } from './jwt/jwt-keyring.js';
import type { SecurityOptions } from './security.options.js';

/** Tokens this service issues and verifies. */
export const jwtConfig = defineConfig('jwt', {
  issuer: {
    env: 'JWT_ISSUER',
    ...cfg.string({ default: 'app' }),
    description: '`iss` of issued tokens (and required on verified ones).',
  },
  audience: {
    env: 'JWT_AUDIENCE',
    ...cfg.string({ default: 'app' }),
    description: '`aud` of issued access tokens (and required on verified ones).',
  },
  algorithm: {
    env: 'JWT_ALGORITHM',
    ...cfg.oneOf(['ES256', 'RS256', 'EdDSA', 'HS256'] as const, 'ES256'),
    description:
      'Signing algorithm; `HS256` needs JWT_SECRET, the others JWT_PRIVATE_KEY_FILE (else an ephemeral key).',
  },
  secret: {
    env: 'JWT_SECRET',
    ...cfg.secret({ minLength: 32 }),
    description: 'HS256 key (≥ 32 chars); setting it selects HS256.',
  },
  privateKeyFile: {
    env: 'JWT_PRIVATE_KEY_FILE',
    ...cfg.string(),
    description:
      'PEM private key for ES256/RS256/EdDSA; unset = an ephemeral key per process (tokens die with it).',
  },
  allowEphemeralKey: {
    env: 'JWT_ALLOW_EPHEMERAL_KEY',
    ...cfg.bool(false),
    description:
      'Allow a per-process ephemeral signing key when NODE_ENV=production (refused there otherwise: tokens would not survive a restart or cross replicas).',
  },
  ttlSeconds: {
    env: 'JWT_TTL_SECONDS',
    ...cfg.int({ min: 30, max: 86_400, default: 900 }),
    description: 'Lifetime of access tokens.',
  },
});

/** An external OpenID Connect provider. */
export const oidcConfig = defineConfig('oidc', {
  issuerUrl: {
    env: 'OIDC_ISSUER_URL',
    ...cfg.url({ schemes: ['https', 'http'] }),
    description:
      'Also accept access tokens of this OpenID provider (discovery + JWKS, key rotation).',
  },
  allowHttp: {
    env: 'OIDC_ALLOW_HTTP',
    ...cfg.bool(false),
    description: 'Accept an `http://` OIDC_ISSUER_URL (local IdPs and tests only).',
  },
  audience: {
    env: 'OIDC_AUDIENCE',
    ...cfg.string(),
    description: "Required `aud` of the provider's tokens (default: JWT_AUDIENCE).",
  },
});

/** Rate limits, HTTP hardening, encryption, API keys. */
export const securityConfig = defineConfig('security', {
  rateLimitPerMinute: {
    env: 'RATE_LIMIT_PER_MINUTE',
    ...cfg.int({ min: 0, max: 1_000_000, default: 600 }),
    description:
      'Requests per minute per user / API key / client IP (shared across instances with REDIS_URL); 0 = off.',
  },
  trustedProxies: {
    env: 'TRUSTED_PROXIES',
    ...cfg.int({ min: 0, max: 10, default: 0 }),
    description:
      'Proxies in front of the app whose X-Forwarded-For entry is trusted for the client IP.',
  },
  rateLimitIpv6Prefix: {
    env: 'RATE_LIMIT_IPV6_PREFIX',
    ...cfg.int({ min: 1, max: 128, default: 64 }),
    description:
      'IPv6 clients without credentials share one rate-limit budget per network of this many bits (128 = per address).',
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    ...cfg.list([]),
    description:
      'Browser origins allowed to call the API (comma-separated, exact); empty = CORS off.',
  },
  tlsCertFile: {
    env: 'TLS_CERT_FILE',
    ...cfg.string(),
    description: 'PEM certificate: serve HTTPS (with TLS_KEY_FILE).',
  },
  tlsKeyFile: {
    env: 'TLS_KEY_FILE',
    ...cfg.string(),
    description: 'PEM private key of TLS_CERT_FILE.',
  },
  encryptionKeys: {
    env: 'ENCRYPTION_KEYS',
    ...cfg.secret(),
    description:
      'Data encryption keys `kid:base64key,…` (the first encrypts); unset = no Encryptor.',
  },
  apiKeys: {
    env: 'API_KEYS',
    ...cfg.list([]),
    description:
      'API keys as `name|sha256:<hex>|scope scope`, comma-separated (only hashes are configured).',
  },
});

/** The secret name of the JWT signing key file (`JWT_PRIVATE_KEY_FILE`). */
const JWT_PRIVATE_KEY = 'JWT_PRIVATE_KEY';

/** Maps the three namespaces to `SecurityModule` options. */
export function securityOptionsFrom(
  config: {
    jwt: ConfigOf<typeof jwtConfig>;
    oidc: ConfigOf<typeof oidcConfig>;
    security: ConfigOf<typeof securityConfig>;
  },
  extra: Partial<SecurityOptions> = {},
): SecurityOptions {
  const { jwt, oidc, security } = config;
  // JWT_PRIVATE_KEY_FILE is the secret JWT_PRIVATE_KEY in that file: watched, so a rotated key
  // file becomes the signer and the replaced key verifies until its tokens have expired.
  const keyFile = jwt.secret ? undefined : jwt.privateKeyFile;
  const keys: JwtKeyConfig[] = jwt.secret
    ? [{ alg: 'HS256', key: jwt.secret, kid: 'hs-1' }]
    : keyFile
      ? [{ alg: jwt.algorithm === 'HS256' ? 'ES256' : jwt.algorithm, secret: JWT_PRIVATE_KEY }]
      : [];
  return {
    jwt: {
      issuer: jwt.issuer,
      audience: jwt.audience,
      accessTokenTtl: jwt.ttlSeconds,
      keyring: {
        keys,
        algorithm: jwt.secret ? 'HS256' : jwt.algorithm === 'HS256' ? 'ES256' : jwt.algorithm,
        ...(jwt.allowEphemeralKey ? { allowEphemeralKey: true } : {}),
      },
    },
    ...(oidc.issuerUrl
      ? {
          oidc: {
            issuer: oidc.issuerUrl,
            audience: oidc.audience ?? jwt.audience,
            allowInsecureHttp: oidc.allowHttp,
          },
        }
      : {}),
    apiKeys: security.apiKeys.map(parseApiKey),
    rateLimit:
      security.rateLimitPerMinute === 0
        ? false
        : {
            limit: security.rateLimitPerMinute,
            ttlMs: 60_000,
            trustedProxies: security.trustedProxies,
            ipv6Prefix: security.rateLimitIpv6Prefix,
          },
    ...(security.encryptionKeys ? { encryption: { keys: security.encryptionKeys } } : {}),
    http: { corsOrigins: security.corsOrigins },
    ...extra,
    ...(keyFile
      ? {
          secrets: {
            ...extra.secrets,
            files: { [JWT_PRIVATE_KEY]: keyFile, ...extra.secrets?.files },
          },
        }
      : {}),
  };
}

/** `name|sha256:<hex>|scope scope` → an API key definition. */
export function parseApiKey(entry: string): ApiKeyDefinition {
  const [name, hash, scopes = ''] = entry.split('|').map((s) => s.trim());
  if (!name || !hash) {
    throw new TypeError('API_KEYS: each entry is "name|sha256:<hex>|scope scope"');
  }
  return { name, hash, scopes: scopes.split(/\s+/).filter(Boolean) };
}
