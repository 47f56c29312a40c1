import { loadConfiguration } from '@infrastructure/configuration';
import { describe, expect, it } from 'vitest';
import { cachingConfig, cachingOptionsFrom } from './caching.config.js';
import { resolveCachingOptions } from './caching.options.js';

function load(env: Record<string, string>) {
  return loadConfiguration([cachingConfig], { env }).values.caching;
}

describe('cachingConfig / cachingOptionsFrom', () => {
  it('REDIS_URL unset → memory store with an L1 (CACHE_L1_MAX_ENTRIES=0: none)', () => {
    const o = resolveCachingOptions(cachingOptionsFrom(load({})));
    expect(o.store).toBe('memory');
    expect(o.l1).toEqual({ maxEntries: 10_000, ttlMs: 10_000 });
    expect(cachingOptionsFrom(load({ CACHE_L1_MAX_ENTRIES: '0' })).l1).toBe(false);
    expect(o.ttlMs).toBe(60_000);
  });

  it('REDIS_URL set → redis with an L1 and the CACHE_* knobs', () => {
    const o = resolveCachingOptions(
      cachingOptionsFrom(
        load({
          REDIS_URL: 'redis://:pw@127.0.0.1:6379/2',
          CACHE_KEY_PREFIX: 'api:',
          CACHE_TTL_MS: '5000',
          CACHE_OP_TIMEOUT_MS: '80',
          CACHE_L1_MAX_ENTRIES: '500',
          CACHE_SINGLE_FLIGHT: 'distributed',
          CACHE_HEALTH_CRITICAL: 'true',
        }),
      ),
    );
    expect(o).toMatchObject({
      store: 'redis',
      redis: { url: 'redis://:pw@127.0.0.1:6379/2', keyPrefix: 'api:' },
      ttlMs: 5000,
      opTimeoutMs: 80,
      l1: { maxEntries: 500, ttlMs: 10_000 },
      singleFlight: 'distributed',
      health: { critical: true },
    });
  });

  it('redis.password from extra goes into the redis options; a malformed one fails naming the key', () => {
    const secrets = { get: () => undefined, onChange: () => () => {} };
    const config = load({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD_FILE: '/run/pw' });
    expect(config.redisPasswordFile).toBe('/run/pw');
    const o = resolveCachingOptions(
      cachingOptionsFrom(config, { redis: { password: { secrets, name: 'REDIS_PASSWORD' } } }),
    );
    expect(o.redis?.password).toEqual({ secrets, name: 'REDIS_PASSWORD' });
    expect(() =>
      resolveCachingOptions({
        redis: { url: 'redis://127.0.0.1:6379', password: { name: 'REDIS_PASSWORD' } as never },
      }),
    ).toThrow(/options\.redis\.password: must be \{ secrets, name \}/);
  });

  it('CACHE_L1_MAX_ENTRIES=0 turns the L1 off', () => {
    const o = cachingOptionsFrom(
      load({ REDIS_URL: 'redis://127.0.0.1:6379', CACHE_L1_MAX_ENTRIES: '0' }),
    );
    expect(o.l1).toBe(false);
  });

  it('a REDIS_URL that is not a redis URL fails naming REDIS_URL, password masked', () => {
    expect(() => load({ REDIS_URL: 'http://user:pw@host' })).toThrow(/REDIS_URL/);
    expect(() => load({ REDIS_URL: 'http://user:pw@host' })).not.toThrow(/pw@/);
  });
});
