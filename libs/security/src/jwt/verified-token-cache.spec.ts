import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { InvalidTokenError, JwtConfigError } from './errors.js';
import { JwtKeyring } from './jwt-keyring.js';
import { JwtManager } from './jwt.manager.js';
import type { JwtManagerOptions } from './jwt.options.js';
import { MemoryRevocationStore } from './stores/memory-revocation.store.js';
import type { VerifiedToken } from './token-checks.js';
import { copyJsonData } from '@infrastructure/core';

import { VerifiedTokenCache } from './verified-token-cache.js';

const START = Date.UTC(2030, 0, 1);

function setup(options: Partial<JwtManagerOptions> = {}) {
  const clock = { now: START };
  const keyring = new JwtKeyring({ keys: [], algorithm: 'ES256' });
  const jwt = new JwtManager({
    issuer: 'https://api.test',
    audience: 'orders',
    keyring,
    clock: () => clock.now,
    revocation: new MemoryRevocationStore(() => clock.now),
    ...options,
  });
  // Counts the verifications that reached the key (a cache hit never does).
  const keyLookups = vi.spyOn(keyring, 'verificationKey');
  return { clock, keyring, jwt, keyLookups };
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as InvalidTokenError).reason;
}

describe('JwtManager: cache of verified tokens', () => {
  it('serves a token verified before without checking its signature again, as fresh objects', async () => {
    const { jwt, keyLookups } = setup();
    const token = await jwt.createToken({ sub: 'u1', scopes: ['orders:read'] });
    const first = await jwt.verify(token);
    first.scopes.push('admin');
    (first.claims as Record<string, unknown>).sub = 'admin';
    const second = await jwt.verify(token);
    expect(keyLookups).toHaveBeenCalledTimes(1);
    expect(jwt.tokenCache!.size).toBe(1);
    expect(second).toMatchObject({ sub: 'u1', scopes: ['orders:read'], claims: { sub: 'u1' } });
    expect(second).toEqual({ ...first, scopes: ['orders:read'], claims: second.claims });
  });

  it('still refuses a cached token once it is revoked (by jti or by login family)', async () => {
    const { jwt, keyLookups } = setup();
    const pair = await jwt.issueTokens({ sub: 'u1' });
    const other = await jwt.issueTokens({ sub: 'u2' });
    const verified = await jwt.verify(pair.accessToken);
    await jwt.verify(other.accessToken);
    await jwt.revoke(verified);
    expect(await reason(jwt.verify(pair.accessToken))).toBe('revoked');
    await jwt.revokeFamily(other.familyId);
    expect(await reason(jwt.verify(other.accessToken))).toBe('revoked');
    // Both refusals were cache hits: the revocation store answered, not the signature check.
    expect(keyLookups).toHaveBeenCalledTimes(2);
  });

  it('never serves an entry past the token exp: checked again there, refused once expired', async () => {
    const { clock, jwt, keyLookups } = setup();
    const token = await jwt.createToken({ sub: 'u1' }, { expiresIn: 20 });
    await jwt.verify(token);
    clock.now = START + 19_000;
    await jwt.verify(token);
    expect(keyLookups).toHaveBeenCalledTimes(1);
    // Past exp but within the clock tolerance (30 s): verified in full again, and accepted.
    clock.now = START + 21_000;
    await expect(jwt.verify(token)).resolves.toMatchObject({ sub: 'u1' });
    expect(keyLookups).toHaveBeenCalledTimes(2);
    clock.now = START + 51_000;
    expect(await reason(jwt.verify(token))).toBe('expired');
  });

  it('keeps an entry at most ttlSeconds (default 60)', async () => {
    const { clock, jwt, keyLookups } = setup();
    const token = await jwt.createToken({ sub: 'u1' });
    await jwt.verify(token);
    clock.now = START + 59_999;
    await jwt.verify(token);
    expect(keyLookups).toHaveBeenCalledTimes(1);
    clock.now = START + 60_000;
    await jwt.verify(token);
    expect(keyLookups).toHaveBeenCalledTimes(2);
  });

  it('refuses a token of a key retired from the ring, though it was cached', async () => {
    const { keyring, jwt } = setup();
    const oldKid = keyring.activeKid;
    const token = await jwt.createToken({ sub: 'u1' });
    await expect(jwt.verify(token)).resolves.toMatchObject({ kid: oldKid });
    keyring.rotate();
    await expect(jwt.verify(token)).resolves.toMatchObject({ kid: oldKid });
    keyring.retire(oldKid);
    expect(await reason(jwt.verify(token))).toBe('unknown_kid');
    expect(jwt.tokenCache!.size).toBe(0);
    await expect(jwt.verify(await jwt.createToken({ sub: 'u2' }))).resolves.toMatchObject({
      kid: keyring.activeKid,
    });
  });

  it('caches per audience and typ: a token cached for one is still refused for another', async () => {
    const { jwt } = setup({ audience: ['orders', 'billing'] });
    const token = await jwt.createToken({ sub: 'u1' }, { audience: 'orders' });
    await jwt.verify(token);
    expect(await reason(jwt.verify(token, { audience: 'billing' }))).toBe('wrong_audience');
    expect(await reason(jwt.verify(token, { type: 'JWT' }))).toBe('wrong_type');
    await expect(jwt.verify(token, { audience: 'orders' })).resolves.toMatchObject({ sub: 'u1' });
  });

  it('never caches a refused token, nor a refresh token', async () => {
    const { jwt } = setup();
    const token = await jwt.createToken({ sub: 'u1' });
    const tampered = `${token.slice(0, -4)}AAAA`;
    expect(await reason(jwt.verify(tampered))).toBe('bad_signature');
    expect(await reason(jwt.verify(tampered))).toBe('bad_signature');
    const { refreshToken } = await jwt.issueTokens({ sub: 'u1' });
    await jwt.refresh(refreshToken);
    expect(jwt.tokenCache!.size).toBe(0);
  });

  it('holds at most maxEntries tokens', async () => {
    const { jwt, keyLookups } = setup({ verifiedTokenCache: { maxEntries: 3 } });
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((i) => jwt.createToken({ sub: `u${i}` })));
    for (const token of tokens) await jwt.verify(token);
    expect(jwt.tokenCache!.size).toBe(3);
    await jwt.verify(tokens[4]!);
    expect(keyLookups).toHaveBeenCalledTimes(5);
    await jwt.verify(tokens[0]!); // evicted: verified in full again
    expect(keyLookups).toHaveBeenCalledTimes(6);
    expect(jwt.tokenCache!.size).toBe(3);
  });

  it('is off with verifiedTokenCache: false, and its bounds are validated', async () => {
    const { jwt, keyLookups } = setup({ verifiedTokenCache: false });
    const token = await jwt.createToken({ sub: 'u1' });
    await jwt.verify(token);
    await jwt.verify(token);
    expect(jwt.tokenCache).toBeUndefined();
    expect(keyLookups).toHaveBeenCalledTimes(2);
    expect(() => setup({ verifiedTokenCache: { ttlSeconds: 61 } })).toThrow(JwtConfigError);
    expect(() => setup({ verifiedTokenCache: { maxEntries: 0 } })).toThrow(JwtConfigError);
  });
});

/** A verified token expiring at `exp` (seconds). */
function verifiedToken(exp: number): VerifiedToken {
  return {
    sub: 'u1',
    scopes: ['orders:read'],
    roles: [],
    exp,
    iss: 'https://api.test',
    aud: ['orders'],
    kid: 'kid',
    claims: { sub: 'u1', exp, scope: 'orders:read', ctx: { tags: ['a'] } },
  };
}

describe('VerifiedTokenCache', () => {
  it('drops the least recently used entry first', () => {
    const cache = new VerifiedTokenCache(3, 60_000);
    const exp = START / 1000 + 600;
    for (const k of ['a', 'b', 'c']) cache.set(k, verifiedToken(exp), START);
    expect(cache.get('a', START)).toBeDefined();
    cache.set('d', verifiedToken(exp), START);
    expect(cache.get('b', START)).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => cache.get(k, START) !== undefined)).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('ends an entry at the earlier of exp and the TTL, and skips one already expired', () => {
    const cache = new VerifiedTokenCache(10, 60_000);
    const nowS = START / 1000;
    cache.set('short', verifiedToken(nowS + 10), START);
    cache.set('long', verifiedToken(nowS + 600), START);
    cache.set('dead', verifiedToken(nowS), START);
    expect(cache.size).toBe(2);
    expect(cache.get('short', START + 9_999)).toBeDefined();
    expect(cache.get('short', START + 10_000)).toBeUndefined();
    expect(cache.get('long', START + 59_999)).toBeDefined();
    expect(cache.get('long', START + 60_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps its own copy and gives a fresh deep copy on every hit', () => {
    const cache = new VerifiedTokenCache(10, 60_000);
    const stored = verifiedToken(START / 1000 + 600);
    cache.set('k', stored, START);
    stored.scopes.push('admin'); // the caller's object after set
    const first = cache.get('k', START)!;
    first.roles.push('admin');
    (first.claims.ctx as { tags: string[] }).tags.push('b');
    const second = cache.get('k', START)!;
    expect(second).toEqual(verifiedToken(START / 1000 + 600));
    expect(second).not.toBe(first);
  });

  it('copies a __proto__ claim as an own property, as JSON.parse leaves it', () => {
    const claims = JSON.parse('{"sub":"u1","__proto__":{"isAdmin":true}}') as Record<
      string,
      unknown
    >;
    const copy = copyJsonData(claims);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(Object.keys(copy)).toEqual(['sub', '__proto__']);
  });

  it('keys by a hash of the context and the token, not the token itself', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln';
    const key = VerifiedTokenCache.key('["at+jwt","orders"]', token);
    expect(key).toMatch(/^[\w-]{43}$/);
    expect(key).not.toContain(token.slice(0, 20));
    expect(VerifiedTokenCache.key('["at+jwt","billing"]', token)).not.toBe(key);
  });

  it('keys by SHA-256 of `context \\0 token` (the same keys as a Hash fed the parts)', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln';
    const context = '["at+jwt","orders"]';
    const parts = createHash('sha256').update(context).update('\0').update(token);
    expect(VerifiedTokenCache.key(context, token)).toBe(parts.digest('base64url'));
  });
});
