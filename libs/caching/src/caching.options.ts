import { z } from 'zod';
import {
  maskUrlPassword,
  isSecretReference,
  SECRET_REFERENCE_EXPECTED,
  validateModuleOptions,
  type SecretReference,
} from '@infrastructure/core';
import { CachingConfigError } from './errors.js';
import type { CacheSerializer } from './serialization/cache-serializer.js';

/** Options of `CachingModule.forRoot` / the factory of `forRootAsync`. Durations are milliseconds. */
export interface CachingOptions {
  /** Where the shared tier lives. @default 'redis' when `redis.url` is set, else 'memory' */
  store?: 'memory' | 'redis';
  /** The Redis server (store 'redis'). */
  redis?: {
    /** `redis://[user:password@]host:port[/db]` or `rediss://…`. Required for store 'redis'; the password is never logged. */
    url: string;
    /** Prefix of every key and channel, so apps (and tests) can share one Redis. @default 'cache:' */
    keyPrefix?: string;
    /** Time to wait for the connection at boot before starting degraded. @default 2000 */
    connectTimeoutMs?: number;
    /**
     * TLS of a `rediss://` URL: the CA that signed the server's certificate (`ca`: PEM, or
     * `caFile`: its path, `REDIS_TLS_CA_FILE`), trusted instead of Node's default CAs. Set with a
     * `redis://` URL it fails the boot; a certificate that does not verify fails it too.
     * @default none (Node's default CAs)
     */
    tls?: { ca?: string | Buffer; caFile?: string };
    /**
     * The password from a rotating secret instead of the URL's: `{ secrets, name:
     * 'REDIS_PASSWORD' }` (the security lib's `SecretsProvider`, which reads
     * `REDIS_PASSWORD_FILE`). The connections (commands and the invalidation subscriber)
     * authenticate with its current value, and every reconnection with the value of the moment:
     * after a rotation nothing is dropped, and a reconnect is not refused. A secret the provider
     * does not have fails the boot. @default the URL's password
     */
    password?: SecretReference;
  };
  /** Name of this cache in metric labels. @default 'default' */
  name?: string;
  /** Default freshness of an entry. @default 60000 */
  ttlMs?: number;
  /** Default stale-while-revalidate window after `ttlMs` (see `CacheSetOptions`). @default 0 */
  staleWhileRevalidateMs?: number;
  /** Default grace window after `ttlMs`: serve stale when the loader fails. @default 0 */
  graceMs?: number;
  /**
   * In-process LRU of live objects in front of the store (Redis or memory), so a hit neither
   * reads nor decodes; with Redis it is kept coherent across instances by pub/sub. Values it
   * returns are shared between callers: treat them as read-only. `false` turns it off (every
   * `get` then decodes a fresh copy). @default { maxEntries: 10000, ttlMs: 10000 }
   */
  l1?:
    | false
    | {
        /** Entries at most; the least recently used go first. @default 10000 */
        maxEntries?: number;
        /** Longest life of an L1 entry (bounds staleness if an invalidation message is lost). @default 10000 */
        ttlMs?: number;
      };
  /** Store 'memory': entries at most. @default 100000 */
  memory?: { maxEntries?: number };
  /** Concurrent misses: one loader per process, or one across instances. @default 'local' */
  singleFlight?: 'local' | 'distributed';
  /** Distributed single-flight: lock lifetime and how long others wait for the value. @default { lockTtlMs: 10000, waitMs: 5000, pollMs: 20 } */
  distributed?: { lockTtlMs?: number; waitMs?: number; pollMs?: number };
  /** Every Redis operation of the cache gives up after this long (then counts as a miss / a skipped write). @default 100 */
  opTimeoutMs?: number;
  /** Circuit in front of Redis. @default { failureThreshold: 5, cooldownMs: 5000 } */
  circuit?: { failureThreshold?: number; cooldownMs?: number };
  /** At most one "Redis unavailable" warning per this interval. @default 30000 */
  warnIntervalMs?: number;
  /** Keys longer than this are stored as a prefix plus their SHA-256 (never rejected). @default 200 */
  maxKeyLength?: number;
  /** Life of a tag's version key; an entry tagged lives at most this long after its tag last changed. @default 86400000 (1 day) */
  tagTtlMs?: number;
  /** Encodes values for the shared tier. @default TaggedJsonSerializer (JSON + Date, BigInt, Buffer, Map, Set) */
  serializer?: CacheSerializer;
  /** Readiness check `redis` (store 'redis' only). */
  health?: {
    /** Register it in the monitoring health registry when present. @default true */
    enabled?: boolean;
    /** Redis down → readiness 503 (true) or `degraded`, 200 (false: the cache fails open). @default false */
    critical?: boolean;
    /** PING timeout. @default 500 */
    timeoutMs?: number;
  };
}

/** Extras known before the options factory runs. */
export interface CachingExtras {
  /** Register globally. @default true */
  isGlobal?: boolean;
}

const ms = z.number().int().min(0).max(2_147_483_647);
const positive = z.number().int().min(1).max(2_147_483_647);

const schema = z
  .object({
    store: z.enum(['memory', 'redis']).optional(),
    redis: z
      .object({
        url: z.string().refine((v) => /^rediss?:\/\//i.test(v) && URL.canParse(v), {
          error: (issue) =>
            `must be a redis:// or rediss:// URL (REDIS_URL), got "${maskUrlPassword(String(issue.input))}"`,
        }),
        keyPrefix: z.string().max(100).optional(),
        connectTimeoutMs: positive.optional(),
        tls: z
          .object({
            ca: z.union([z.string().min(1), z.instanceof(Buffer)]).optional(),
            caFile: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
        password: z
          .custom<SecretReference>(isSecretReference, { message: SECRET_REFERENCE_EXPECTED })
          .optional(),
      })
      .strict()
      .optional(),
    name: z
      .string()
      .regex(/^[a-zA-Z0-9_.:-]{1,64}$/, 'must be 1-64 characters of [a-zA-Z0-9_.:-]')
      .optional(),
    ttlMs: positive.optional(),
    staleWhileRevalidateMs: ms.optional(),
    graceMs: ms.optional(),
    l1: z
      .union([
        z.literal(false),
        z.object({ maxEntries: positive.optional(), ttlMs: positive.optional() }).strict(),
      ])
      .optional(),
    memory: z.object({ maxEntries: positive.optional() }).strict().optional(),
    singleFlight: z.enum(['local', 'distributed']).optional(),
    distributed: z
      .object({
        lockTtlMs: positive.optional(),
        waitMs: ms.optional(),
        pollMs: positive.optional(),
      })
      .strict()
      .optional(),
    opTimeoutMs: positive.optional(),
    circuit: z
      .object({ failureThreshold: positive.optional(), cooldownMs: positive.optional() })
      .strict()
      .optional(),
    warnIntervalMs: positive.optional(),
    maxKeyLength: z.number().int().min(80).max(10_000).optional(),
    tagTtlMs: positive.optional(),
    serializer: z
      .custom<CacheSerializer>(
        (v) =>
          typeof (v as CacheSerializer)?.serialize === 'function' &&
          typeof (v as CacheSerializer)?.deserialize === 'function',
        { message: 'must have serialize(key, value) and deserialize(data)' },
      )
      .optional(),
    health: z
      .object({
        enabled: z.boolean().optional(),
        critical: z.boolean().optional(),
        timeoutMs: positive.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.store === 'redis' && !o.redis?.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['redis', 'url'],
        message: 'is required when store is "redis" (set REDIS_URL)',
      });
    }
  });

/** Options with every default applied. */
export interface ResolvedCachingOptions {
  store: 'memory' | 'redis';
  redis?: {
    url: string;
    keyPrefix: string;
    connectTimeoutMs: number;
    tls?: { ca?: string | Buffer; caFile?: string };
    password?: SecretReference;
  };
  keyPrefix: string;
  name: string;
  ttlMs: number;
  staleWhileRevalidateMs: number;
  graceMs: number;
  l1: false | { maxEntries: number; ttlMs: number };
  memory: { maxEntries: number };
  singleFlight: 'local' | 'distributed';
  distributed: { lockTtlMs: number; waitMs: number; pollMs: number };
  opTimeoutMs: number;
  circuit: { failureThreshold: number; cooldownMs: number };
  warnIntervalMs: number;
  maxKeyLength: number;
  tagTtlMs: number;
  serializer?: CacheSerializer;
  health: { enabled: boolean; critical: boolean; timeoutMs: number };
}

/** Validates options, naming the bad key, and applies defaults. */
export function resolveCachingOptions(options: CachingOptions = {}): ResolvedCachingOptions {
  validateModuleOptions('CachingModule', schema, options, CachingConfigError);
  const store = options.store ?? (options.redis?.url ? 'redis' : 'memory');
  const keyPrefix = options.redis?.keyPrefix ?? 'cache:';
  const l1 = options.l1 ?? {};
  return {
    store,
    redis:
      store === 'redis'
        ? {
            url: options.redis!.url,
            keyPrefix,
            connectTimeoutMs: options.redis?.connectTimeoutMs ?? 2000,
            ...(options.redis?.tls ? { tls: options.redis.tls } : {}),
            ...(options.redis?.password ? { password: options.redis.password } : {}),
          }
        : undefined,
    keyPrefix,
    name: options.name ?? 'default',
    ttlMs: options.ttlMs ?? 60_000,
    staleWhileRevalidateMs: options.staleWhileRevalidateMs ?? 0,
    graceMs: options.graceMs ?? 0,
    l1: l1 === false ? false : { maxEntries: l1.maxEntries ?? 10_000, ttlMs: l1.ttlMs ?? 10_000 },
    memory: { maxEntries: options.memory?.maxEntries ?? 100_000 },
    singleFlight: options.singleFlight ?? 'local',
    distributed: {
      lockTtlMs: options.distributed?.lockTtlMs ?? 10_000,
      waitMs: options.distributed?.waitMs ?? 5000,
      pollMs: options.distributed?.pollMs ?? 20,
    },
    opTimeoutMs: options.opTimeoutMs ?? 100,
    circuit: {
      failureThreshold: options.circuit?.failureThreshold ?? 5,
      cooldownMs: options.circuit?.cooldownMs ?? 5000,
    },
    warnIntervalMs: options.warnIntervalMs ?? 30_000,
    maxKeyLength: options.maxKeyLength ?? 200,
    tagTtlMs: options.tagTtlMs ?? 86_400_000,
    serializer: options.serializer,
    health: {
      enabled: options.health?.enabled ?? true,
      critical: options.health?.critical ?? false,
      timeoutMs: options.health?.timeoutMs ?? 500,
    },
  };
}
