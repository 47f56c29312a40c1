import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { TimeoutError, withTimeout, type RedisClient } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';

interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

// Fixed window per key: INCR, start the window on the first hit, block once over the limit.
// Returns hits, ms left in the window, blocked (0/1), ms left blocked.
const SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local blockedFor = redis.call('PTTL', KEYS[2])
if blockedFor > 0 then
  return { hits, ttl, 1, blockedFor }
end
if hits > tonumber(ARGV[2]) then
  local block = tonumber(ARGV[3])
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    return { hits, ttl, 1, block }
  end
  return { hits, ttl, 1, ttl }
end
return { hits, ttl, 0, 0 }
`;

type WithThrottle = Redis & {
  securityThrottle(
    hitKey: string,
    blockKey: string,
    ttlMs: number,
    limit: number,
    blockMs: number,
  ): Promise<[number, number, number, number]>;
};

/** Settings of the Redis rate-limit storage. */
export interface RedisThrottlerStorageOptions {
  /** Prefix of every key. @default 'rl:' */
  keyPrefix?: string;
  /** Longest wait for Redis per request. @default 100 */
  timeoutMs?: number;
  /** Redis down or slow: let the request through (true) or refuse it with 429 (false). @default true */
  failOpen?: boolean;
}

/**
 * Rate-limit counters in Redis, shared by every instance: one atomic script per request
 * (`EVALSHA` through ioredis `defineCommand`, not the script text each time), keys that expire
 * with their window, and a bounded wait: when Redis does not answer within `timeoutMs` the
 * request goes through (fail-open, the default: a dead Redis must not take the API down) and a
 * warning is logged at most every 30 s. Replaces @nest-lab/throttler-storage-redis, which sends
 * the whole script on every request and waits for Redis without a bound.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly log = getLogger('RateLimit');
  private readonly redis: WithThrottle;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly failOpen: boolean;
  private lastWarning = 0;

  constructor(
    client: RedisClient,
    options: RedisThrottlerStorageOptions = {},
    private readonly errors?: Counter<'reason'>,
  ) {
    const redis = client as Redis;
    if (!('securityThrottle' in redis)) {
      redis.defineCommand('securityThrottle', { numberOfKeys: 2, lua: SCRIPT });
    }
    this.redis = redis as WithThrottle;
    this.prefix = options.keyPrefix ?? 'rl:';
    this.timeoutMs = options.timeoutMs ?? 100;
    this.failOpen = options.failOpen ?? true;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const base = `${this.prefix}{${throttlerName}:${key}}`;
    try {
      const [hits, ttlMs, blocked, blockMs] = await withTimeout(
        this.redis.securityThrottle(`${base}:hits`, `${base}:block`, ttl, limit, blockDuration),
        this.timeoutMs,
        () => `Redis did not answer within ${this.timeoutMs} ms`,
      );
      return {
        totalHits: hits,
        timeToExpire: Math.ceil(ttlMs / 1000),
        isBlocked: blocked === 1,
        timeToBlockExpire: Math.ceil(blockMs / 1000),
      };
    } catch (error) {
      this.errors?.inc({ reason: error instanceof TimeoutError ? 'timeout' : 'error' });
      const now = Date.now();
      if (now - this.lastWarning > 30_000) {
        this.lastWarning = now;
        this.log.warn(
          { err: error, failOpen: this.failOpen },
          this.failOpen
            ? 'rate-limit storage unavailable: requests are let through'
            : 'rate-limit storage unavailable: requests are refused',
        );
      }
      if (this.failOpen) {
        return {
          totalHits: 0,
          timeToExpire: Math.ceil(ttl / 1000),
          isBlocked: false,
          timeToBlockExpire: 0,
        };
      }
      return {
        totalHits: limit + 1,
        timeToExpire: Math.ceil(ttl / 1000),
        isBlocked: true,
        timeToBlockExpire: Math.ceil(ttl / 1000),
      };
    }
  }
}
