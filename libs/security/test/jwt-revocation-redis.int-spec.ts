import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidGrantError,
  JwtKeyring,
  JwtManager,
  RedisRevocationStore,
  RevocationStoreUnavailableError,
} from '../src/jwt/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `test:jwt-revocation:${randomBytes(6).toString('hex')}:`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('RedisRevocationStore', () => {
  it('revokes atomically with a TTL equal to the remaining lifetime', async () => {
    const store = new RedisRevocationStore({ client: redis, keyPrefix: prefix });
    await expect(store.revoke('at:j1', 120)).resolves.toBe(true);
    await expect(store.revoke('at:j1', 120)).resolves.toBe(false);
    await expect(store.isRevoked(['at:other', 'at:j1'])).resolves.toBe(true);
    await expect(store.isRevoked(['at:other'])).resolves.toBe(false);
    await expect(store.isRevoked([])).resolves.toBe(false);
    const ttl = await redis.ttl(`${prefix}at:j1`);
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(120);
    await store.close();
    // the caller's client stays open
    await expect(redis.ping()).resolves.toBe('PONG');
  });

  it('lets one of 50 concurrent revokes of the same id win (SET NX)', async () => {
    const store = new RedisRevocationStore({ url: REDIS_URL, keyPrefix: prefix });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.revoke('rt:race', 60)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    await store.close();
  });

  it('detects refresh token reuse across two instances sharing Redis and revokes the family on both', async () => {
    const keyring = new JwtKeyring({
      keys: [{ kid: 'shared', alg: 'HS256', key: 's'.repeat(32) }],
    });
    const instance = () =>
      new JwtManager({
        issuer: 'https://api.test',
        audience: 'orders',
        keyring,
        revocation: new RedisRevocationStore({ url: REDIS_URL, keyPrefix: prefix }),
      });
    const a = instance();
    const b = instance();
    const login = await a.issueTokens({ sub: 'u1', scopes: ['orders:read'] });
    const rotated = await b.refresh(login.refreshToken);
    await expect(a.verify(rotated.accessToken)).resolves.toMatchObject({ scopes: ['orders:read'] });
    const reuse = await a.refresh(login.refreshToken).catch((e: unknown) => e);
    expect(reuse).toBeInstanceOf(InvalidGrantError);
    expect(reuse).toMatchObject({ reason: 'reused' });
    await expect(b.verify(rotated.accessToken)).rejects.toMatchObject({ reason: 'revoked' });
    await expect(b.refresh(rotated.refreshToken)).rejects.toMatchObject({
      reason: 'family_revoked',
    });
    const famTtl = await redis.ttl(`${prefix}fam:${login.familyId}`);
    expect(famTtl).toBeGreaterThan(14 * 86_400 - 10);
    await Promise.all([a.revocation.close(), b.revocation.close()]);
  });

  it('refuses a bad constructor call with a clear error', () => {
    expect(() => new RedisRevocationStore({})).toThrow(
      'exactly one of options.client or options.url',
    );
    expect(() => new RedisRevocationStore({ url: 'localhost:6379' })).toThrow(
      'redis:// or rediss://',
    );
  });
});

describe('RedisRevocationStore with Redis down or hung', () => {
  let hung: Server;
  let hungUrl: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: the worst case, where only a deadline helps.
    hung = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    hungUrl = `redis://127.0.0.1:${(hung.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => hung.close(resolve));
  });

  it.each([
    ['refused connections', () => 'redis://127.0.0.1:1'],
    ['a server that never answers', () => hungUrl],
  ])('fails each operation within its deadline on %s', async (_name, url) => {
    const store = new RedisRevocationStore({ url: url(), keyPrefix: prefix, opTimeoutMs: 200 });
    const started = performance.now();
    const error = await store.isRevoked(['at:x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RevocationStoreUnavailableError);
    await expect(store.revoke('at:x', 10)).rejects.toBeInstanceOf(RevocationStoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(1500);
    await store.close();
  });

  it('keeps verifying access tokens (fail-open) and refuses refreshes with 503 (fail-closed)', async () => {
    const keyring = new JwtKeyring({ keys: [{ kid: 'k', alg: 'HS256', key: 'k'.repeat(32) }] });
    const jwt = new JwtManager({
      issuer: 'https://api.test',
      audience: 'orders',
      keyring,
      revocation: new RedisRevocationStore({ url: hungUrl, opTimeoutMs: 100 }),
    });
    const pair = await jwt.issueTokens({ sub: 'u1' });
    await expect(jwt.verify(pair.accessToken)).resolves.toMatchObject({ sub: 'u1' });
    await expect(jwt.refresh(pair.refreshToken)).rejects.toMatchObject({
      name: 'RevocationStoreUnavailableError',
      httpStatus: 503,
    });
    await jwt.revocation.close();
  });
});
