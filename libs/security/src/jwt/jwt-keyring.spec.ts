import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JwtConfigError } from './errors.js';
import { JwtKeyring, type JwtKeyringChange } from './jwt-keyring.js';
import { JwtManager } from './jwt.manager.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const pem = (k: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1' | 'spki') =>
  k.export({ format: 'pem', type: type as 'pkcs8' }) as string;
const dir = mkdtempSync(join(tmpdir(), 'jwt-keyring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): JwtConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(JwtConfigError);
  return caught as JwtConfigError;
}

describe('JwtKeyring', () => {
  it('generates one ephemeral ES256 key when none is configured, publishing only its public half', () => {
    const ring = new JwtKeyring();
    expect(ring.list()).toEqual([
      { kid: ring.activeKid, alg: 'ES256', canSign: true, active: true, ephemeral: true },
    ]);
    const { keys } = ring.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      kid: ring.activeKid,
      alg: 'ES256',
      use: 'sig',
      kty: 'EC',
      crv: 'P-256',
    });
    expect(keys[0]).not.toHaveProperty('d');
    // the kid is the RFC 7638 thumbprint: 43 base64url characters
    expect(ring.activeKid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each(['HS256', 'RS256', 'ES256', 'EdDSA'] as const)(
    'generates and signs with %s',
    async (alg) => {
      const ring = new JwtKeyring({ algorithm: alg });
      const jwt = new JwtManager({ issuer: 'i', audience: 'a', keyring: ring });
      const token = await jwt.createToken({ sub: 's' });
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual({
        alg,
        kid: ring.activeKid,
        typ: 'at+jwt',
      });
      await expect(jwt.verify(token)).resolves.toMatchObject({ sub: 's', kid: ring.activeKid });
    },
  );

  it('refuses to start without keys when NODE_ENV=production, unless allowEphemeralKey says so', () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const e = configError(() => new JwtKeyring());
      expect(e.message).toMatch(/JWT_PRIVATE_KEY_FILE.*JWT_SECRET/);
      expect(e.message).toContain('JWT_ALLOW_EPHEMERAL_KEY=true');
      expect(new JwtKeyring({ allowEphemeralKey: true }).list()[0]).toMatchObject({
        ephemeral: true,
      });
      expect(
        new JwtKeyring({ keys: [{ alg: 'ES256', key: pem(ec.privateKey, 'pkcs8') }] }).list(),
      ).toHaveLength(1);
    } finally {
      process.env.NODE_ENV = before;
    }
    expect(configError(() => new JwtKeyring({ allowEphemeralKey: false })).message).toContain(
      'JWT_SECRET',
    );
  });

  it('loads PKCS#8, PKCS#1 and SEC1 PEMs, JWKs, files and HS256 secrets', () => {
    const file = join(dir, 'ec.pem');
    writeFileSync(file, pem(ec.privateKey, 'sec1'));
    const ring = new JwtKeyring({
      keys: [
        { kid: 'rsa-pkcs8', alg: 'RS256', key: pem(rsa.privateKey, 'pkcs8') },
        { kid: 'rsa-pkcs1', alg: 'RS256', key: pem(rsa.privateKey, 'pkcs1') },
        { kid: 'ec-file', alg: 'ES256', keyFile: file },
        {
          alg: 'EdDSA',
          key: JSON.stringify({ ...ed.privateKey.export({ format: 'jwk' }), kid: 'ed-jwk' }),
        },
        { kid: 'hs', alg: 'HS256', key: 'a'.repeat(32) },
        {
          kid: 'hs-jwk',
          alg: 'HS256',
          key: JSON.stringify({ kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url') }),
        },
      ],
    });
    expect(ring.list().map((k) => [k.kid, k.alg, k.canSign])).toEqual([
      ['rsa-pkcs8', 'RS256', true],
      ['rsa-pkcs1', 'RS256', true],
      ['ec-file', 'ES256', true],
      ['ed-jwk', 'EdDSA', true],
      ['hs', 'HS256', true],
      ['hs-jwk', 'HS256', true],
    ]);
    // the last key that can sign is active by default
    expect(ring.activeKid).toBe('hs-jwk');
    // symmetric keys never leave the process
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([
      'rsa-pkcs8',
      'rsa-pkcs1',
      'ec-file',
      'ed-jwk',
    ]);
    expect(JSON.stringify(ring.jwks())).not.toMatch(/"(d|p|q|dp|dq|qi|k)":/);
  });

  it('takes public keys (SPKI PEM, public JWK) as verify-only keys', () => {
    const ring = new JwtKeyring({
      keys: [
        { kid: 'old', alg: 'RS256', key: pem(rsa.publicKey, 'spki') },
        {
          kid: 'ec-pub',
          alg: 'ES256',
          key: JSON.stringify(ec.publicKey.export({ format: 'jwk' })),
        },
        { kid: 'new', alg: 'EdDSA', key: pem(ed.privateKey, 'pkcs8') },
      ],
    });
    expect(ring.activeKid).toBe('new');
    expect(ring.list().find((k) => k.kid === 'old')).toMatchObject({ canSign: false });
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual(['old', 'ec-pub', 'new']);
    expect(configError(() => ring.activate('old')).message).toContain('cannot sign');
    expect(
      configError(
        () =>
          new JwtKeyring({ keys: [{ kid: 'p', alg: 'RS256', key: pem(rsa.publicKey, 'spki') }] }),
      ).message,
    ).toContain('nothing can sign');
  });

  it.each([
    ['a short HS256 secret', { alg: 'HS256', key: 'short' }, 'at least 32 bytes'],
    ['an EC key as RS256', { alg: 'RS256', key: pem(ec.privateKey, 'pkcs8') }, 'needs an RSA key'],
    ['an RSA key as ES256', { alg: 'ES256', key: pem(rsa.privateKey, 'pkcs8') }, 'needs an EC key'],
    [
      'an RSA key as EdDSA',
      { alg: 'EdDSA', key: pem(rsa.privateKey, 'pkcs8') },
      'needs an Ed25519 key',
    ],
    [
      'a P-384 key as ES256',
      {
        alg: 'ES256',
        key: pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'pkcs8'),
      },
      'needs curve P-256',
    ],
    [
      'a 1024-bit RSA key',
      {
        alg: 'RS256',
        key: pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, 'pkcs8'),
      },
      '≥ 2048 bits',
    ],
    [
      'a PEM as HS256',
      { alg: 'HS256', key: pem(rsa.publicKey, 'spki') },
      'is HS256 but its key is a PEM',
    ],
    ['a raw string as RS256', { alg: 'RS256', key: 'x'.repeat(40) }, 'needs a PEM or JWK'],
    [
      'an RSA JWK as HS256',
      { alg: 'HS256', key: JSON.stringify(rsa.publicKey.export({ format: 'jwk' })) },
      'not "oct"',
    ],
    [
      'a JWK whose alg differs',
      {
        alg: 'RS256',
        key: JSON.stringify({ ...rsa.publicKey.export({ format: 'jwk' }), alg: 'PS256' }),
      },
      'its JWK says alg PS256',
    ],
    ['broken JSON', { alg: 'RS256', key: '{"kty": "RSA",' }, 'not valid JSON'],
    [
      'a broken PEM',
      {
        alg: 'RS256',
        key: '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXN0dWZm\n-----END PRIVATE KEY-----',
      },
      'is not a valid key',
    ],
    [
      'an encrypted PEM',
      {
        alg: 'RS256',
        key: rsa.privateKey.export({
          format: 'pem',
          type: 'pkcs8',
          cipher: 'aes-256-cbc',
          passphrase: 'pw',
        }) as string,
      },
      'encrypted PEM',
    ],
    ['an unsupported alg', { alg: 'PS256', key: 'x' }, 'must be one of HS256, RS256, ES256, EdDSA'],
    ['no material', { alg: 'RS256' }, 'needs key or keyFile'],
    ['a missing file', { alg: 'RS256', keyFile: join(dir, 'nope.pem') }, 'cannot be read (ENOENT)'],
    ['a kid with spaces', { kid: 'a b', alg: 'HS256', key: 'a'.repeat(32) }, 'printable ASCII'],
  ])('refuses %s with a JwtConfigError that names the problem', (_name, config, message) => {
    const e = configError(() => new JwtKeyring({ keys: [config as never] }));
    expect(e.message).toContain(message);
    expect(e.message).toContain('options.keys[0]');
  });

  it('never puts key material into its errors', () => {
    const secret = 'c2VjcmV0LXN0dWZm-do-not-leak';
    const e = configError(
      () =>
        new JwtKeyring({
          keys: [
            {
              alg: 'RS256',
              key: `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----`,
            },
          ],
        }),
    );
    expect(e.message).not.toContain(secret);
    const short = configError(
      () => new JwtKeyring({ keys: [{ alg: 'HS256', key: 'tiny-secret-value' }] }),
    );
    expect(short.message).not.toContain('tiny-secret-value');
  });

  it('refuses a duplicate kid and an unknown or non-signing activeKid', () => {
    const key = pem(ec.privateKey, 'pkcs8');
    expect(
      configError(
        () =>
          new JwtKeyring({
            keys: [
              { kid: 'k', alg: 'ES256', key },
              { kid: 'k', alg: 'ES256', key },
            ],
          }),
      ).message,
    ).toContain('duplicate key id "k"');
    expect(
      configError(() => new JwtKeyring({ keys: [{ kid: 'k', alg: 'ES256', key }], activeKid: 'x' }))
        .message,
    ).toContain('options.activeKid "x"');
  });

  it('rotates: the new key signs, the old one verifies until retired, and each change is emitted', async () => {
    const ring = new JwtKeyring({
      keys: [{ kid: 'k1', alg: 'ES256', key: pem(ec.privateKey, 'pkcs8') }],
    });
    const changes: JwtKeyringChange[] = [];
    ring.on('change', (c) => changes.push(c));
    const jwt = new JwtManager({ issuer: 'i', audience: 'a', keyring: ring });
    const before = await jwt.createToken({ sub: 's' });
    const k2 = ring.rotate({ kid: 'k2' });
    expect(k2).toMatchObject({ kid: 'k2', alg: 'ES256', active: true, ephemeral: true });
    const after = await jwt.createToken({ sub: 's' });
    await expect(jwt.verify(before)).resolves.toMatchObject({ kid: 'k1' });
    await expect(jwt.verify(after)).resolves.toMatchObject({ kid: 'k2' });
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
    expect(configError(() => ring.retire('k2')).message).toContain('active signing key');
    ring.retire('k1');
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual(['k2']);
    await expect(jwt.verify(before)).rejects.toMatchObject({ reason: 'unknown_kid' });
    ring.rotate({ kid: 'k3', alg: 'RS256', key: pem(rsa.privateKey, 'pkcs8') });
    expect(ring.activeAlgorithm).toBe('RS256');
    await expect(jwt.verify(await jwt.createToken({ sub: 's' }))).resolves.toMatchObject({
      kid: 'k3',
    });
    expect(changes).toEqual([
      { type: 'added', kid: 'k2', alg: 'ES256' },
      { type: 'activated', kid: 'k2', alg: 'ES256' },
      { type: 'retired', kid: 'k1', alg: 'ES256' },
      { type: 'added', kid: 'k3', alg: 'RS256' },
      { type: 'activated', kid: 'k3', alg: 'RS256' },
    ]);
    expect(configError(() => ring.retire('nope')).message).toContain('no key "nope"');
  });

  it('adds a verify-only key without activating it (a reloaded secret file)', () => {
    const ring = new JwtKeyring({
      keys: [{ kid: 'k1', alg: 'ES256', key: pem(ec.privateKey, 'pkcs8') }],
    });
    expect(
      ring.addKey({ kid: 'next', alg: 'EdDSA', key: pem(ed.privateKey, 'pkcs8') }),
    ).toMatchObject({ active: false, canSign: true });
    expect(ring.activeKid).toBe('k1');
    expect(ring.algorithms()).toEqual(['ES256', 'EdDSA']);
    ring.activate('next');
    expect(ring.activeKid).toBe('next');
  });
});
