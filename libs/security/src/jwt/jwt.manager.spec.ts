import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricsService } from '@infrastructure/monitoring';
import {
  InvalidGrantError,
  InvalidTokenError,
  JwtConfigError,
  RevocationStoreUnavailableError,
} from './errors.js';
import { JwtKeyring } from './jwt-keyring.js';
import { JwtManager } from './jwt.manager.js';
import type { JwtManagerOptions } from './jwt.options.js';
import { RevocationStore } from './revocation-store.js';
import { MemoryRevocationStore } from './stores/memory-revocation.store.js';

const ring = new JwtKeyring({ keys: [{ kid: 'hs', alg: 'HS256', key: 'k'.repeat(32) }] });

function make(options: Partial<JwtManagerOptions> = {}) {
  return new JwtManager({
    issuer: 'https://api.test',
    audience: 'orders',
    keyring: ring,
    ...options,
  });
}

/** A store whose every operation fails, like a dead Redis. */
class DeadStore extends RevocationStore {
  calls = 0;
  revoke(): Promise<boolean> {
    this.calls++;
    return Promise.reject(new Error('ECONNREFUSED'));
  }
  isRevoked(): Promise<boolean> {
    this.calls++;
    return Promise.reject(new Error('ECONNREFUSED'));
  }
}

const decode = (token: string, part = 1) =>
  JSON.parse(Buffer.from(token.split('.')[part]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;

describe('JwtManager', () => {
  it('creates an RFC 9068 access token and verifies it back into a VerifiedToken', async () => {
    let now = Date.UTC(2030, 0, 1);
    const jwt = make({ clock: () => now });
    const token = await jwt.createToken(
      {
        sub: 'u1',
        scopes: ['orders:read', 'orders:write'],
        roles: ['admin'],
        tenant: 't1',
        plan: 'gold',
      },
      { expiresIn: '5m', jti: 'j1' },
    );
    expect(decode(token, 0)).toEqual({ alg: 'HS256', kid: 'hs', typ: 'at+jwt' });
    const iat = now / 1000;
    expect(decode(token)).toEqual({
      sub: 'u1',
      scope: 'orders:read orders:write',
      roles: ['admin'],
      tenant: 't1',
      plan: 'gold',
      iss: 'https://api.test',
      aud: 'orders',
      iat,
      exp: iat + 300,
      jti: 'j1',
    });
    now += 10_000;
    const verified = await jwt.verify(token);
    expect(verified).toEqual({
      sub: 'u1',
      scopes: ['orders:read', 'orders:write'],
      roles: ['admin'],
      tenant: 't1',
      jti: 'j1',
      exp: iat + 300,
      iss: 'https://api.test',
      aud: ['orders'],
      kid: 'hs',
      claims: decode(token),
    });
    now += 300_000 + 31_000;
    await expect(jwt.verify(token)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('uses the default 15 minute lifetime and takes several audiences', async () => {
    const jwt = make({ audience: ['orders', 'billing'] });
    const claims = decode(await jwt.createToken({ sub: 'u1' }));
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect(claims.aud).toEqual(['orders', 'billing']);
    const only = await jwt.createToken({ sub: 'u1' }, { audience: 'billing' });
    await expect(make({ audience: 'orders' }).verify(only)).rejects.toMatchObject({
      reason: 'wrong_audience',
    });
    await expect(make({ audience: ['billing'] }).verify(only)).resolves.toMatchObject({
      aud: ['billing'],
    });
  });

  it('refuses a registered claim passed as a custom claim and an empty sub', async () => {
    const jwt = make();
    for (const claim of ['iss', 'aud', 'exp', 'jti', 'scope']) {
      await expect(jwt.createToken({ sub: 'u', [claim]: 'x' })).rejects.toThrow(
        `token claim "${claim}" is set by the JwtManager`,
      );
    }
    await expect(jwt.createToken({ sub: '' })).rejects.toThrow(TypeError);
    await expect(jwt.createToken({ sub: 'u' }, { expiresIn: '-1m' })).rejects.toThrow(
      'expiresIn must be a positive',
    );
  });

  it.each([
    [{ issuer: '' }, 'JwtManager: options.issuer'],
    [{ audience: [] }, 'JwtManager: options.audience'],
    [{ maxTokenBytes: 10 }, 'JwtManager: options.maxTokenBytes'],
    [{ accessTokenTtl: '15 minutes' }, 'JwtManager: options.accessTokenTtl'],
    [{ revocationFailure: { access: 'maybe' } }, 'JwtManager: options.revocationFailure.access'],
    [{ algorithms: ['none'] }, 'JwtManager: options.algorithms.0'],
    [{ algorithms: ['RS256'] }, 'the active key signs with HS256'],
    [{ accessTokenType: 'x', refreshTokenType: 'x' }, 'refreshTokenType must differ'],
  ])('refuses bad options %j naming the key', (bad, message) => {
    expect(() => make(bad as Partial<JwtManagerOptions>)).toThrow(JwtConfigError);
    expect(() => make(bad as Partial<JwtManagerOptions>)).toThrow(message);
  });

  describe('refresh tokens', () => {
    it('rotates: each refresh returns a new pair carrying the same claims and login family', async () => {
      const jwt = make();
      const first = await jwt.issueTokens({
        sub: 'u1',
        scopes: ['orders:read'],
        roles: ['r'],
        tenant: 't',
        plan: 'p',
      });
      expect(first).toMatchObject({
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshExpiresIn: 14 * 86_400,
        scope: 'orders:read',
      });
      expect(decode(first.refreshToken, 0)).toMatchObject({ typ: 'rt+jwt' });
      expect(decode(first.refreshToken)).toMatchObject({
        aud: 'https://api.test',
        fam: first.familyId,
      });
      const second = await jwt.refresh(first.refreshToken);
      expect(second.familyId).toBe(first.familyId);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      const verified = await jwt.verify(second.accessToken);
      expect(verified).toMatchObject({
        sub: 'u1',
        scopes: ['orders:read'],
        roles: ['r'],
        tenant: 't',
      });
      expect(verified.claims).toMatchObject({ plan: 'p', sid: first.familyId });
      const third = await jwt.refresh(second.refreshToken);
      await expect(jwt.verify(third.accessToken)).resolves.toMatchObject({ sub: 'u1' });
    });

    it('revokes the whole family when a used refresh token comes back', async () => {
      const jwt = make();
      const first = await jwt.issueTokens({ sub: 'u1' });
      const second = await jwt.refresh(first.refreshToken);
      const third = await jwt.refresh(second.refreshToken);
      // an attacker replays the first refresh token
      const reuse = await jwt.refresh(first.refreshToken).catch((e: unknown) => e);
      expect(reuse).toBeInstanceOf(InvalidGrantError);
      expect(reuse).toMatchObject({ reason: 'reused', error: 'invalid_grant', httpStatus: 400 });
      // every descendant is dead: the newest refresh token and the access tokens of the login
      await expect(jwt.refresh(third.refreshToken)).rejects.toMatchObject({
        reason: 'family_revoked',
      });
      await expect(jwt.verify(third.accessToken)).rejects.toMatchObject({ reason: 'revoked' });
      await expect(jwt.verify(first.accessToken)).rejects.toMatchObject({ reason: 'revoked' });
      // another login of the same user is untouched
      const other = await jwt.issueTokens({ sub: 'u1' });
      await expect(jwt.verify(other.accessToken)).resolves.toMatchObject({ sub: 'u1' });
    });

    it('lets exactly one of two concurrent refreshes with the same token win', async () => {
      const jwt = make();
      const { refreshToken } = await jwt.issueTokens({ sub: 'u1' });
      const results = await Promise.allSettled([
        jwt.refresh(refreshToken),
        jwt.refresh(refreshToken),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    });

    it('refuses an access token, a garbage string or an expired refresh token as invalid_grant', async () => {
      let now = Date.UTC(2030, 0, 1);
      const jwt = make({ clock: () => now, refreshTokenTtl: '1h' });
      const pair = await jwt.issueTokens({ sub: 'u1' });
      await expect(jwt.refresh(pair.accessToken)).rejects.toMatchObject({
        name: 'InvalidGrantError',
        reason: 'wrong_type',
      });
      await expect(jwt.refresh('garbage')).rejects.toMatchObject({
        name: 'InvalidGrantError',
        reason: 'malformed',
      });
      now += 3600_000 + 31_000;
      await expect(jwt.refresh(pair.refreshToken)).rejects.toMatchObject({
        name: 'InvalidGrantError',
        reason: 'expired',
      });
    });

    it('issues a lone refresh token whose exchange yields the given claims', async () => {
      const jwt = make();
      const refreshToken = await jwt.issueRefreshToken('svc', {
        claims: { scopes: ['orders:read'] },
      });
      const pair = await jwt.refresh(refreshToken);
      await expect(jwt.verify(pair.accessToken)).resolves.toMatchObject({
        sub: 'svc',
        scopes: ['orders:read'],
      });
    });

    it('reloads claims through refreshClaims, which may also refuse', async () => {
      let roles = ['user'];
      const jwt = make({
        refreshClaims: (claims) => {
          if (roles.length === 0) throw new InvalidGrantError('denied', 'user disabled');
          return { ...claims, roles };
        },
      });
      const first = await jwt.issueTokens({ sub: 'u1', roles: ['admin'] });
      const second = await jwt.refresh(first.refreshToken);
      await expect(jwt.verify(second.accessToken)).resolves.toMatchObject({ roles: ['user'] });
      roles = [];
      await expect(jwt.refresh(second.refreshToken)).rejects.toMatchObject({ reason: 'denied' });
    });

    it('logs a family out, and revokes a single access token by jti', async () => {
      const jwt = make();
      const pair = await jwt.issueTokens({ sub: 'u1' });
      await jwt.logout(pair.refreshToken);
      await jwt.logout(pair.refreshToken);
      await expect(jwt.verify(pair.accessToken)).rejects.toMatchObject({ reason: 'revoked' });
      await expect(jwt.refresh(pair.refreshToken)).rejects.toMatchObject({
        reason: 'family_revoked',
      });
      const token = await jwt.createToken({ sub: 'u2' });
      const verified = await jwt.verify(token);
      await jwt.revoke(verified);
      const e = await jwt.verify(token).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InvalidTokenError);
      expect(e).toMatchObject({ reason: 'revoked', publicMessage: 'The access token is invalid' });
    });

    it('skips the revocation lookup when checkRevocation is false', async () => {
      const store = new DeadStore();
      const jwt = make({ revocation: store, checkRevocation: false });
      await jwt.verify(await jwt.createToken({ sub: 'u' }));
      expect(store.calls).toBe(0);
    });
  });

  describe('when the revocation store fails', () => {
    it('accepts access tokens by default (fail-open) and refuses refreshes (fail-closed, 503)', async () => {
      const store = new DeadStore();
      const jwt = make({ revocation: store });
      const pair = await jwt.issueTokens({ sub: 'u1' });
      await expect(jwt.verify(pair.accessToken)).resolves.toMatchObject({ sub: 'u1' });
      const e = await jwt.refresh(pair.refreshToken).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RevocationStoreUnavailableError);
      expect(e).toMatchObject({ httpStatus: 503, error: 'temporarily_unavailable' });
      await expect(jwt.revoke({ jti: 'j', exp: 2e9 })).rejects.toBeInstanceOf(
        RevocationStoreUnavailableError,
      );
      await expect(jwt.logout(pair.refreshToken)).rejects.toBeInstanceOf(
        RevocationStoreUnavailableError,
      );
    });

    it('refuses access tokens with 503 when configured fail-closed, and refreshes when fail-open', async () => {
      const jwt = make({
        revocation: new DeadStore(),
        revocationFailure: { access: 'closed', refresh: 'open' },
      });
      const pair = await jwt.issueTokens({ sub: 'u1' });
      await expect(jwt.verify(pair.accessToken)).rejects.toBeInstanceOf(
        RevocationStoreUnavailableError,
      );
      await expect(jwt.refresh(pair.refreshToken)).resolves.toMatchObject({
        familyId: pair.familyId,
      });
    });
  });

  it('counts auth_tokens_verified_total{result,reason} when given a MetricsService', async () => {
    const metrics = new MetricsService(new Registry());
    const jwt = make({ metrics, revocation: new MemoryRevocationStore() });
    const token = await jwt.createToken({ sub: 'u' });
    await jwt.verify(token);
    await jwt.verify(token);
    await jwt.verify('garbage').catch(() => undefined);
    await jwt.verify(`${token}x`).catch(() => undefined);
    const text = (await metrics.render()).body;
    expect(text).toContain('auth_tokens_verified_total{result="valid",reason="ok"} 2');
    expect(text).toContain('auth_tokens_verified_total{result="invalid",reason="malformed"} 1');
    expect(text).toContain('auth_tokens_verified_total{result="invalid",reason="bad_signature"} 1');
  });

  it('expires memory revocations with the token lifetime', async () => {
    let now = 0;
    const store = new MemoryRevocationStore(() => now);
    await expect(store.revoke('a', 10)).resolves.toBe(true);
    await expect(store.revoke('a', 10)).resolves.toBe(false);
    await expect(store.isRevoked(['x', 'a'])).resolves.toBe(true);
    now = 10_001;
    await expect(store.isRevoked(['a'])).resolves.toBe(false);
    await expect(store.revoke('a', 10)).resolves.toBe(true);
  });
});
