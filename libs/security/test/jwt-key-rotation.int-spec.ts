import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import { decodeProtectedHeader } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { MonitoringModule } from '@infrastructure/monitoring';
import { bootTestingModule, kubeletWrite, testMonitoringOptions } from '@infrastructure/testing';
import { JwtManager, type JwtKeyringChange } from '../src/jwt/index.js';
import { SecurityModule } from '../src/security.module.js';
import { securityOptionsFrom } from '../src/security.config.js';
import { SecretsProvider } from '../src/secrets/index.js';

const root = mkdtempSync(join(tmpdir(), 'jwt-rotation-'));
const refs: TestingModule[] = [];
afterAll(async () => {
  for (const ref of refs) await ref.close();
  rmSync(root, { recursive: true, force: true });
});

const es256Pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;

/** The next keyring change of `type`. */
function nextKeyChange(jwt: JwtManager, type: JwtKeyringChange['type']): Promise<JwtKeyringChange> {
  return new Promise((resolve) => {
    const listener = (change: JwtKeyringChange) => {
      if (change.type !== type) return;
      jwt.keyring.off('change', listener);
      resolve(change);
    };
    jwt.keyring.on('change', listener);
  });
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

/** securityOptionsFrom(...) of a config with JWT_PRIVATE_KEY_FILE set. */
function optionsWithKeyFile(file: string, rotatedKeyTtlSeconds?: number) {
  const options = securityOptionsFrom(
    {
      jwt: {
        issuer: 'https://api.test',
        audience: 'orders',
        algorithm: 'ES256',
        privateKeyFile: file,
        allowEphemeralKey: false,
        ttlSeconds: 900,
      },
      oidc: { allowHttp: false },
      security: {
        rateLimitPerMinute: 0,
        trustedProxies: 0,
        corsOrigins: [],
        apiKeys: [],
      },
    } as unknown as Parameters<typeof securityOptionsFrom>[0],
    { audit: false },
  );
  if (rotatedKeyTtlSeconds !== undefined && options.jwt) {
    options.jwt = {
      ...options.jwt,
      keyring: { ...options.jwt.keyring, rotatedKeyTtlSeconds } as never,
    };
  }
  return options;
}

async function boot(
  file: string,
  rotatedKeyTtlSeconds?: number,
): Promise<{ jwt: JwtManager; secrets: SecretsProvider }> {
  const ref = await bootTestingModule({
    imports: [
      MonitoringModule.forRoot(testMonitoringOptions()),
      SecurityModule.forRoot(optionsWithKeyFile(file, rotatedKeyTtlSeconds)),
    ],
  });
  refs.push(ref);
  return { jwt: ref.get(JwtManager), secrets: ref.get(SecretsProvider) };
}

describe('JWT signing key from a rotated JWT_PRIVATE_KEY_FILE', () => {
  it('signs with the new key after a ..data swap; tokens of the old key verify until retired', async () => {
    const dir = mkdtempSync(join(root, 'mount-'));
    kubeletWrite(dir, { 'jwt.pem': es256Pem() });
    const { jwt } = await boot(join(dir, 'jwt.pem'), 2);
    const oldKid = jwt.keyring.activeKid;
    const oldToken = await jwt.createToken({ sub: 'u1' });
    expect(kidOf(oldToken)).toBe(oldKid);

    const activated = nextKeyChange(jwt, 'activated');
    const retired = nextKeyChange(jwt, 'retired');
    kubeletWrite(dir, { 'jwt.pem': es256Pem() });
    const change = await activated;

    expect(change.kid).not.toBe(oldKid);
    expect(jwt.keyring.activeKid).toBe(change.kid);
    const newToken = await jwt.createToken({ sub: 'u2' });
    expect(kidOf(newToken)).toBe(change.kid);
    await expect(jwt.verify(newToken)).resolves.toMatchObject({ sub: 'u2' });
    // The old key still verifies its tokens and is still published.
    await expect(jwt.verify(oldToken)).resolves.toMatchObject({ sub: 'u1' });
    expect(
      jwt
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([oldKid, change.kid].sort());

    // Once its tokens have expired (here: the 2 s the test configured) it is retired.
    expect(await retired).toMatchObject({ kid: oldKid });
    await expect(jwt.verify(oldToken)).rejects.toMatchObject({ reason: 'unknown_kid' });
    await expect(jwt.verify(newToken)).resolves.toMatchObject({ sub: 'u2' });
    expect(jwt.jwks().keys.map((k) => k.kid)).toEqual([change.kid]);
  });

  it('keeps replaced keys for the longest token lifetime by default (refresh TTL + clock skew)', async () => {
    const dir = mkdtempSync(join(root, 'mount-'));
    kubeletWrite(dir, { 'jwt.pem': es256Pem() });
    const { jwt } = await boot(join(dir, 'jwt.pem'));
    expect(jwt.keyring.rotatedKeyTtlSeconds).toBe(14 * 86_400 + 30);
  });

  it('keeps signing with the current key when the rotated file is not a usable key', async () => {
    const dir = mkdtempSync(join(root, 'mount-'));
    kubeletWrite(dir, { 'jwt.pem': es256Pem() });
    const { jwt, secrets } = await boot(join(dir, 'jwt.pem'));
    const kid = jwt.keyring.activeKid;
    // Listeners run in subscription order: the keyring (subscribed at boot) has handled it first.
    const seen = new Promise<string | undefined>((resolve) =>
      secrets.onChange('JWT_PRIVATE_KEY', (s) => resolve(s?.reveal())),
    );
    kubeletWrite(dir, { 'jwt.pem': 'not a key' });
    expect(await seen).toBe('not a key');
    expect(jwt.keyring.activeKid).toBe(kid);
    expect(jwt.keyring.list()).toHaveLength(1);
    await expect(jwt.verify(await jwt.createToken({ sub: 'u3' }))).resolves.toBeDefined();
  });
});
