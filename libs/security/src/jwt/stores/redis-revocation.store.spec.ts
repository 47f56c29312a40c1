import { describe, expect, it } from 'vitest';
import type { RedisClient } from '@infrastructure/core';
import { RedisRevocationStore } from './redis-revocation.store.js';

describe('RedisRevocationStore options', () => {
  it('refuses a TLS CA it would silently not use: beside redis:// or beside a client', () => {
    const tls = { ca: '-----BEGIN CERTIFICATE-----' };
    expect(() => new RedisRevocationStore({ url: 'redis://127.0.0.1:6379', tls })).toThrow(
      'RedisRevocationStore: options.tls is set but options.url is not a rediss:// URL',
    );
    const client = { status: 'ready' } as unknown as RedisClient;
    expect(() => new RedisRevocationStore({ client, tls })).toThrow(
      'RedisRevocationStore: options.tls applies to options.url; a client passed in brings its own TLS settings',
    );
    expect(() => new RedisRevocationStore({ url: 'rediss://127.0.0.1:6380', tls })).not.toThrow();
  });
});
