import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import type { CachingOptions } from './caching.options.js';

/** Environment variables of the caching lib (register with `ConfigurationModule`). */
export const cachingConfig = defineConfig('caching', {
  redisUrl: {
    env: 'REDIS_URL',
    ...cfg.url({ schemes: ['redis', 'rediss'] }),
    // Secret as a whole: the configuration lib echoes a malformed URL verbatim in its error, password included.
    secret: true,
    description:
      'Redis for the cache (L1 in-process + L2 Redis, cross-instance invalidation, locks); unset = in-memory. Password masked in logs.',
  },
  redisTlsCaFile: {
    env: 'REDIS_TLS_CA_FILE',
    ...cfg.string(),
    description:
      'PEM CA file trusted for a `rediss://` REDIS_URL (instead of the default CAs); set with `redis://` it fails the boot.',
  },
  redisPasswordFile: {
    env: 'REDIS_PASSWORD_FILE',
    ...cfg.string(),
    description:
      "File holding the REDIS_URL password (instead of the URL's), watched: every reconnection uses the current value, so a rotation needs no restart. Wire it as `redis.password: { secrets, name: 'REDIS_PASSWORD' }` with a SecretsProvider that reads this file (the sample does, for the cache and the security lib).",
  },
  keyPrefix: {
    env: 'CACHE_KEY_PREFIX',
    ...cfg.string({ default: 'cache:' }),
    description:
      'Prefix of every cache key and channel in Redis (several apps can share one Redis).',
  },
  ttlMs: {
    env: 'CACHE_TTL_MS',
    ...cfg.int({ min: 1, max: 2_147_483_647, default: 60_000 }),
    description: 'Default freshness of a cache entry, in milliseconds.',
  },
  opTimeoutMs: {
    env: 'CACHE_OP_TIMEOUT_MS',
    ...cfg.int({ min: 1, max: 60_000, default: 100 }),
    description:
      'Every Redis operation of the cache gives up after this long (then a miss / a skipped write).',
  },
  l1MaxEntries: {
    env: 'CACHE_L1_MAX_ENTRIES',
    ...cfg.int({ min: 0, max: 10_000_000, default: 10_000 }),
    description:
      'In-process L1 entries (live objects, shared between callers) in front of Redis or the memory store; 0 turns the L1 off.',
  },
  l1TtlMs: {
    env: 'CACHE_L1_TTL_MS',
    ...cfg.int({ min: 1, max: 2_147_483_647, default: 10_000 }),
    description:
      'Longest life of an L1 entry (bounds staleness if an invalidation message is lost).',
  },
  singleFlight: {
    env: 'CACHE_SINGLE_FLIGHT',
    ...cfg.oneOf(['local', 'distributed'] as const, 'local'),
    description:
      'Concurrent misses of one key run the loader once per process (`local`) or once across instances (`distributed`).',
  },
  healthCritical: {
    env: 'CACHE_HEALTH_CRITICAL',
    ...cfg.bool(false),
    description:
      'Redis down makes readiness 503 (true) or `degraded` with 200 (false: the cache fails open).',
  },
});

/** Maps `cachingConfig` to `CachingModule` options: `REDIS_URL` set → store 'redis', unset → 'memory'; both with an L1 unless `CACHE_L1_MAX_ENTRIES=0`. */
export function cachingOptionsFrom(
  config: ConfigOf<typeof cachingConfig>,
  extra: Omit<CachingOptions, 'store' | 'redis'> & {
    /** With `REDIS_URL`: the password from a rotating secret (`REDIS_PASSWORD_FILE`). */
    redis?: Pick<NonNullable<CachingOptions['redis']>, 'password'>;
  } = {},
): CachingOptions {
  const redis = config.redisUrl !== undefined;
  const { redis: redisExtra, ...rest } = extra;
  return {
    ttlMs: config.ttlMs,
    opTimeoutMs: config.opTimeoutMs,
    singleFlight: config.singleFlight,
    ...rest,
    l1:
      extra.l1 !== undefined
        ? extra.l1
        : config.l1MaxEntries > 0
          ? { maxEntries: config.l1MaxEntries, ttlMs: config.l1TtlMs }
          : false,
    health: { critical: config.healthCritical, ...extra.health },
    ...(redis
      ? {
          store: 'redis' as const,
          redis: {
            url: config.redisUrl!,
            keyPrefix: config.keyPrefix,
            ...(config.redisTlsCaFile ? { tls: { caFile: config.redisTlsCaFile } } : {}),
            ...(redisExtra?.password ? { password: redisExtra.password } : {}),
          },
        }
      : { store: 'memory' as const }),
  };
}
