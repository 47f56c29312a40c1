import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { CompactSign, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError, type InvalidTokenReason } from './errors.js';
import { JwtKeyring } from './jwt-keyring.js';
import { JwtManager } from './jwt.manager.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'orders-api';
const NOW = Date.UTC(2030, 0, 1);
const nowS = Math.floor(NOW / 1000);
const clock = () => NOW;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPrivatePem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
const rsaPublicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
const HS_SECRET = 'an-hmac-secret-of-at-least-32-bytes!!';

function manager(
  keyring: JwtKeyring,
  extra: Partial<ConstructorParameters<typeof JwtManager>[0]> = {},
) {
  return new JwtManager({ issuer: ISSUER, audience: AUDIENCE, keyring, clock, ...extra });
}

const rsaRing = () =>
  new JwtKeyring({ keys: [{ kid: 'rsa-1', alg: 'RS256', key: rsaPrivatePem }] });

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const validClaims = () => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  scope: 'orders:read',
  iat: nowS,
  exp: nowS + 300,
  jti: 'jti-1',
});

/** Signs any header and payload with `key`, as an attacker holding (some) key would. */
async function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(key);
}

function hmac(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string | Buffer,
) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function refused(jwt: JwtManager, token: string): Promise<InvalidTokenError> {
  const error = await jwt.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  const e = error as InvalidTokenError;
  expect(e.httpStatus).toBe(401);
  expect(e.error).toBe('invalid_token');
  // The HTTP body says "expired" or "invalid", never which check failed.
  expect(['The access token is invalid', 'The access token expired']).toContain(e.publicMessage);
  expect(e.httpHeaders['WWW-Authenticate']).toMatch(/^Bearer error="invalid_token"/);
  return e;
}

async function expectRefused(jwt: JwtManager, token: string, reason: InvalidTokenReason) {
  expect((await refused(jwt, token)).reason).toBe(reason);
}

/** The claims as JSON text, with some members written as raw JSON numbers. */
const payload = (raw: Record<string, string>) => {
  const members = Object.entries(validClaims()).map(([k, v]) => [k, raw[k] ?? JSON.stringify(v)]);
  for (const [k, v] of Object.entries(raw)) if (!(k in validClaims())) members.push([k, v]);
  return `{${members.map(([k, v]) => `"${k}":${v}`).join(',')}}`;
};

describe('JwtManager against JWT attacks (RFC 8725)', () => {
  it('accepts the untampered token (the baseline every attack below starts from)', async () => {
    const ring = rsaRing();
    const jwt = manager(ring);
    const token = await forge(
      { alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt' },
      validClaims(),
      ring.signingKey().key,
    );
    await expect(jwt.verify(token)).resolves.toMatchObject({
      sub: 'user-1',
      scopes: ['orders:read'],
    });
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])(
    'refuses alg "%s" with or without a signature',
    async (alg) => {
      const jwt = manager(rsaRing());
      const unsigned = `${b64({ alg, kid: 'rsa-1', typ: 'at+jwt' })}.${b64(validClaims())}.`;
      await expectRefused(jwt, unsigned, 'alg_none');
      await expectRefused(jwt, `${unsigned}c2lnbmF0dXJl`, 'alg_none');
    },
  );

  it('refuses HS256 signed with the RSA public key (the ring has only RS256: alg not allowed)', async () => {
    const jwt = manager(rsaRing());
    const token = hmac({ alg: 'HS256', kid: 'rsa-1', typ: 'at+jwt' }, validClaims(), rsaPublicPem);
    await expectRefused(jwt, token, 'alg_not_allowed');
  });

  it('refuses HS256 signed with the RSA public key even when the ring also holds an HS256 key', async () => {
    const ring = new JwtKeyring({
      keys: [
        { kid: 'hs-1', alg: 'HS256', key: HS_SECRET },
        { kid: 'rsa-1', alg: 'RS256', key: rsaPrivatePem },
      ],
    });
    const jwt = manager(ring);
    for (const pem of [
      rsaPublicPem,
      rsaPublicPem.trim(),
      JSON.stringify(await exportJWK(rsa.publicKey)),
    ]) {
      const token = hmac({ alg: 'HS256', kid: 'rsa-1', typ: 'at+jwt' }, validClaims(), pem);
      await expectRefused(jwt, token, 'key_mismatch');
    }
  });

  it('refuses RS256 naming the HS256 key (the HMAC secret is never used as an RSA key)', async () => {
    const ring = new JwtKeyring({
      keys: [
        { kid: 'hs-1', alg: 'HS256', key: HS_SECRET },
        { kid: 'rsa-1', alg: 'RS256', key: rsaPrivatePem },
      ],
    });
    const token = await forge(
      { alg: 'RS256', kid: 'hs-1', typ: 'at+jwt' },
      validClaims(),
      rsa.privateKey,
    );
    await expectRefused(manager(ring), token, 'key_mismatch');
  });

  it('refuses an algorithm outside options.algorithms even when a key of it exists', async () => {
    const ring = new JwtKeyring({
      keys: [
        { kid: 'hs-1', alg: 'HS256', key: HS_SECRET },
        { kid: 'rsa-1', alg: 'RS256', key: rsaPrivatePem },
      ],
      activeKid: 'rsa-1',
    });
    const token = hmac({ alg: 'HS256', kid: 'hs-1', typ: 'at+jwt' }, validClaims(), HS_SECRET);
    await expect(manager(ring).verify(token)).resolves.toMatchObject({ kid: 'hs-1' });
    await expectRefused(manager(ring, { algorithms: ['RS256'] }), token, 'alg_not_allowed');
  });

  it('refuses an expired token, but not one expired within the clock skew', async () => {
    const ring = rsaRing();
    const key = ring.signingKey().key;
    const header = { alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt' };
    const expired = await forge(header, { ...validClaims(), iat: nowS - 600, exp: nowS - 31 }, key);
    const justExpired = await forge(
      header,
      { ...validClaims(), iat: nowS - 600, exp: nowS - 29 },
      key,
    );
    const e = await refused(manager(ring), expired);
    expect(e.reason).toBe('expired');
    expect(e.publicMessage).toBe('The access token expired');
    await expect(manager(ring).verify(justExpired)).resolves.toMatchObject({ sub: 'user-1' });
    await expectRefused(manager(ring, { clockToleranceSeconds: 0 }), justExpired, 'expired');
  });

  it('refuses a token not yet valid (nbf) or issued in the future (iat) beyond the skew', async () => {
    const ring = rsaRing();
    const key = ring.signingKey().key;
    const header = { alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt' };
    await expectRefused(
      manager(ring),
      await forge(header, { ...validClaims(), nbf: nowS + 60 }, key),
      'not_yet_valid',
    );
    await expectRefused(
      manager(ring),
      await forge(header, { ...validClaims(), iat: nowS + 60 }, key),
      'issued_in_future',
    );
    await expect(
      manager(ring).verify(
        await forge(header, { ...validClaims(), nbf: nowS + 20, iat: nowS + 20 }, key),
      ),
    ).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    const ring = rsaRing();
    const token = await manager(ring).createToken({ sub: 'user-1' });
    await expectRefused(
      new JwtManager({ issuer: 'https://evil.test', audience: AUDIENCE, keyring: ring, clock }),
      token,
      'wrong_issuer',
    );
    await expectRefused(
      new JwtManager({ issuer: ISSUER, audience: 'billing-api', keyring: ring, clock }),
      token,
      'wrong_audience',
    );
    const jwt = manager(ring);
    await expect(jwt.verify(token, { audience: 'billing-api' })).rejects.toMatchObject({
      reason: 'wrong_audience',
    });
  });

  it('refuses an unknown kid, a missing kid, and a kid of a retired key', async () => {
    const ring = rsaRing();
    const jwt = manager(ring);
    const key = ring.signingKey().key;
    await expectRefused(
      jwt,
      await forge({ alg: 'RS256', kid: 'rsa-404', typ: 'at+jwt' }, validClaims(), key),
      'unknown_kid',
    );
    await expectRefused(
      jwt,
      await forge({ alg: 'RS256', typ: 'at+jwt' }, validClaims(), key),
      'kid_missing',
    );
    const old = await jwt.createToken({ sub: 'user-1' });
    ring.rotate({ alg: 'RS256' });
    await expect(jwt.verify(old)).resolves.toMatchObject({ kid: 'rsa-1' });
    ring.retire('rsa-1');
    await expectRefused(jwt, old, 'unknown_kid');
  });

  it('refuses a token signed by another key that claims a known kid, even with an embedded jwk', async () => {
    const ring = rsaRing();
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = await exportJWK(attacker.publicKey);
    const token = await forge(
      { alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt', jwk },
      validClaims(),
      attacker.privateKey,
    );
    await expectRefused(manager(ring), token, 'bad_signature');
    const jku = await forge(
      { alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt', jku: 'https://evil.test/jwks.json' },
      validClaims(),
      attacker.privateKey,
    );
    await expectRefused(manager(ring), jku, 'bad_signature');
  });

  it('refuses a tampered payload (scope escalated, sub changed) and a tampered header', async () => {
    const ring = rsaRing();
    const jwt = manager(ring);
    const token = await jwt.createToken({ sub: 'user-1', scopes: ['orders:read'] });
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await expectRefused(
      jwt,
      `${h}.${b64({ ...claims, scope: 'orders:read orders:write admin' })}.${s}`,
      'bad_signature',
    );
    await expectRefused(jwt, `${h}.${b64({ ...claims, sub: 'admin' })}.${s}`, 'bad_signature');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    await expectRefused(
      jwt,
      `${b64({ ...header, typ: 'at+jwt', x: 1 })}.${p}.${s}`,
      'bad_signature',
    );
    // a flipped signature bit
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    await expectRefused(jwt, `${h}.${p}.${flipped}`, 'bad_signature');
  });

  it('refuses every truncation of a valid token', async () => {
    const jwt = manager(rsaRing());
    const token = await jwt.createToken({ sub: 'user-1' });
    const cuts = [
      1,
      5,
      10,
      20,
      token.indexOf('.'),
      token.indexOf('.') + 1,
      token.lastIndexOf('.'),
      token.lastIndexOf('.') + 1,
      token.length - 1,
      token.length - 2,
      token.length - 100,
    ];
    for (const cut of cuts) {
      await expect(jwt.verify(token.slice(0, cut))).rejects.toBeInstanceOf(InvalidTokenError);
      await refused(jwt, token.slice(0, cut));
    }
  });

  it.each([
    ['empty', '', 'missing'],
    ['a word', 'garbage', 'malformed'],
    ['dots only', '..', 'malformed'],
    ['two parts', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0', 'malformed'],
    ['four parts', 'a.b.c.d', 'malformed'],
    ['a JWE (five parts)', 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', 'malformed'],
    ['non-base64url characters', 'eyJ+.eyJ/.abc=', 'malformed'],
    ['non-ASCII', 'ä.ö.ü', 'malformed'],
    ['header not JSON', `${b64('not json')}.${b64({})}.c2ln`, 'malformed'],
    ['header JSON null', `${b64('null')}.${b64({})}.c2ln`, 'malformed'],
    ['header an array', `${b64([1, 2])}.${b64({})}.c2ln`, 'malformed'],
    ['header without alg', `${b64({ kid: 'rsa-1' })}.${b64({})}.c2ln`, 'malformed'],
    ['alg not a string', `${b64({ alg: 256, kid: 'rsa-1' })}.${b64({})}.c2ln`, 'malformed'],
    [
      'payload not JSON',
      `${b64({ alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt' })}.${b64('x')}.c2ln`,
      'bad_signature',
    ],
    [
      'unknown crit header',
      `${b64({ alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt', crit: ['exp'], exp: 1 })}.${b64({})}.c2ln`,
      'malformed',
    ],
    ['whitespace around', ' eyJ.eyJ.abc ', 'malformed'],
    ['Bearer prefix left in', 'Bearer eyJ.eyJ.abc', 'malformed'],
  ])('refuses garbage: %s', async (_name, token, reason) => {
    await expectRefused(manager(rsaRing()), token, reason as InvalidTokenReason);
  });

  it('refuses non-string input as missing (never a TypeError)', async () => {
    const jwt = manager(rsaRing());
    for (const input of [undefined, null, 42, {}, ['a.b.c']]) {
      await expectRefused(jwt, input as unknown as string, 'missing');
    }
  });

  it('refuses an oversized token before parsing it (default 8 KiB, configurable)', async () => {
    const ring = rsaRing();
    const jwt = manager(ring);
    const big = await jwt.createToken({ sub: 'user-1', padding: 'x'.repeat(9000) });
    await expectRefused(jwt, big, 'too_large');
    await expectRefused(jwt, `${'a'.repeat(5_000_000)}.b.c`, 'too_large');
    await expectRefused(jwt, `${'ä'.repeat(5000)}`, 'too_large');
    await expect(manager(ring, { maxTokenBytes: 16_384 }).verify(big)).resolves.toMatchObject({
      sub: 'user-1',
    });
  });

  it('refuses a wrong typ: plain JWT, missing typ, a refresh token used as an access token', async () => {
    const ring = rsaRing();
    const jwt = manager(ring);
    const key = ring.signingKey().key;
    await expectRefused(
      jwt,
      await forge({ alg: 'RS256', kid: 'rsa-1', typ: 'JWT' }, validClaims(), key),
      'wrong_type',
    );
    await expectRefused(
      jwt,
      await forge({ alg: 'RS256', kid: 'rsa-1' }, validClaims(), key),
      'wrong_type',
    );
    const { refreshToken } = await jwt.issueTokens({ sub: 'user-1' });
    await expectRefused(jwt, refreshToken, 'wrong_type');
    // even with the access type forced, its audience is the issuer, not the API
    await expect(jwt.verify(refreshToken, { type: 'rt+jwt' })).rejects.toMatchObject({
      reason: 'wrong_audience',
    });
    await expect(
      jwt.verify(await jwt.createToken({ sub: 'x' }, { type: 'JWT' }), { type: 'JWT' }),
    ).resolves.toMatchObject({ sub: 'x' });
  });

  it('refuses tokens missing exp, iat or sub', async () => {
    const ring = rsaRing();
    const key = ring.signingKey().key;
    const header = { alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt' };
    for (const claim of ['exp', 'iat', 'sub'] as const) {
      const claims: Record<string, unknown> = validClaims();
      delete claims[claim];
      await expectRefused(manager(ring), await forge(header, claims, key), 'missing_claim');
    }
    await expectRefused(
      manager(ring),
      await forge(header, { ...validClaims(), exp: 'tomorrow' }, key),
      'malformed',
    );
  });

  it('refuses NumericDates that are not finite numbers (1e400 parses to Infinity: never expiring)', async () => {
    const ring = rsaRing();
    const key = ring.signingKey().key;
    const header = { alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt' };
    for (const [claim, value] of [
      ['exp', '1e400'],
      ['nbf', '-1e400'],
      ['iat', '-1e400'],
    ] as const) {
      const text = payload({ [claim]: value });
      expect(Math.abs(JSON.parse(text)[claim])).toBe(Infinity);
      const token = await new CompactSign(new TextEncoder().encode(text))
        .setProtectedHeader(header)
        .sign(key);
      await expectRefused(manager(ring), token, 'malformed');
    }
  });

  it('refuses ES256 and EdDSA tokens whose header alg differs from the key (no downgrade)', async () => {
    const ring = new JwtKeyring({ algorithm: 'ES256' });
    ring.rotate({ alg: 'EdDSA' });
    const jwt = manager(ring);
    const edKid = ring.activeKid;
    const esKid = ring.list()[0]!.kid;
    const edToken = await jwt.createToken({ sub: 'user-1' });
    await expect(jwt.verify(edToken)).resolves.toMatchObject({ kid: edKid });
    const [, p, s] = edToken.split('.');
    await expectRefused(
      jwt,
      `${b64({ alg: 'ES256', kid: edKid, typ: 'at+jwt' })}.${p}.${s}`,
      'key_mismatch',
    );
    await expectRefused(
      jwt,
      `${b64({ alg: 'EdDSA', kid: esKid, typ: 'at+jwt' })}.${p}.${s}`,
      'key_mismatch',
    );
  });
});

describe('JwtManager against JWT attacks on the node:crypto path and its cache', () => {
  it('refuses an ES256 signature in DER (ASN.1) form: JOSE signatures are raw r||s', async () => {
    const ring = new JwtKeyring({ keys: [], algorithm: 'ES256' });
    const jwt = manager(ring);
    const input = `${b64({ alg: 'ES256', kid: ring.activeKid, typ: 'at+jwt' })}.${b64(validClaims())}`;
    const der = sign('sha256', Buffer.from(input), ring.signingKey().key).toString('base64url');
    await expectRefused(jwt, `${input}.${der}`, 'bad_signature');
    const raw = sign('sha256', Buffer.from(input), {
      key: ring.signingKey().key,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url');
    await expect(jwt.verify(`${input}.${raw}`)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('refuses HMAC signatures of the wrong length (truncated, extended) without throwing', async () => {
    const ring = new JwtKeyring({ keys: [{ kid: 'hs-1', alg: 'HS256', key: HS_SECRET }] });
    const jwt = manager(ring);
    const token = hmac({ alg: 'HS256', kid: 'hs-1', typ: 'at+jwt' }, validClaims(), HS_SECRET);
    const [h, p, s] = token.split('.') as [string, string, string];
    const mac = Buffer.from(s, 'base64url');
    for (const variant of [mac.subarray(0, 16), mac.subarray(0, 31), Buffer.concat([mac, mac])]) {
      await expectRefused(jwt, `${h}.${p}.${variant.toString('base64url')}`, 'bad_signature');
    }
    await expect(jwt.verify(token)).resolves.toMatchObject({ kid: 'hs-1' });
  });

  it('refuses a base64url part of length 4n+1 or with non-zero unused bits (no malleable twin)', async () => {
    const ring = new JwtKeyring({ keys: [{ kid: 'hs-1', alg: 'HS256', key: HS_SECRET }] });
    const jwt = manager(ring);
    const token = hmac({ alg: 'HS256', kid: 'hs-1', typ: 'at+jwt' }, validClaims(), HS_SECRET);
    await jwt.verify(token); // cached: its twins must not ride on the entry
    const [h, p, s] = token.split('.') as [string, string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = (part: string) => {
      const last = alphabet.indexOf(part.at(-1)!);
      const mask = part.length % 4 === 2 ? 0x0f : 0x03;
      return `${part.slice(0, -1)}${alphabet[last | (mask & 1)]!}`;
    };
    expect(s.length % 4).not.toBe(0);
    expect(Buffer.from(twin(s), 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    await expectRefused(jwt, `${h}.${p}.${twin(s)}`, 'malformed');
    expect(`${s}AA`.length % 4).toBe(1);
    await expectRefused(jwt, `${h}.${p}.${s}AA`, 'malformed');
    const signedOver = (payloadPart: string) => {
      const input = `${h}.${payloadPart}`;
      return `${input}.${createHmac('sha256', HS_SECRET).update(input).digest('base64url')}`;
    };
    // Properly signed over a payload part that is not canonical base64url either.
    const oddPayload = `${p}${'A'.repeat((5 - (p.length % 4)) % 4)}`;
    expect(oddPayload.length % 4).toBe(1);
    await expectRefused(jwt, signedOver(oddPayload), 'malformed');
  });

  it('refuses crit b64:false (an unencoded payload is no JWT) even when properly signed', async () => {
    const ring = new JwtKeyring({ keys: [{ kid: 'hs-1', alg: 'HS256', key: HS_SECRET }] });
    const jwt = manager(ring);
    const header = { alg: 'HS256', kid: 'hs-1', typ: 'at+jwt', crit: ['b64'], b64: false };
    const input = `${b64(header)}.${b64(validClaims())}`;
    const token = `${input}.${createHmac('sha256', HS_SECRET).update(input).digest('base64url')}`;
    await expectRefused(jwt, token, 'malformed');
    await expectRefused(
      jwt,
      hmac({ ...header, b64: 'false' }, validClaims(), HS_SECRET),
      'malformed',
    );
    await expectRefused(
      jwt,
      hmac({ ...header, crit: ['b64', 'b64'] }, validClaims(), HS_SECRET),
      'malformed',
    );
  });

  it('refuses a payload that is valid base64url but not UTF-8 JSON, after the signature', async () => {
    const ring = new JwtKeyring({ keys: [{ kid: 'hs-1', alg: 'HS256', key: HS_SECRET }] });
    const jwt = manager(ring);
    const h = b64({ alg: 'HS256', kid: 'hs-1', typ: 'at+jwt' });
    for (const bytes of [Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from('{"sub":"a"')]) {
      const input = `${h}.${bytes.toString('base64url')}`;
      const mac = createHmac('sha256', HS_SECRET).update(input).digest('base64url');
      await expectRefused(jwt, `${input}.${mac}`, 'malformed');
      await expectRefused(jwt, `${input}.${mac.slice(0, -2)}AA`, 'bad_signature');
    }
  });

  it('does not let a tampered copy of a cached token hit the cache', async () => {
    const ring = rsaRing();
    const jwt = manager(ring);
    const token = await jwt.createToken({ sub: 'user-1', scopes: ['orders:read'] });
    await jwt.verify(token);
    await jwt.verify(token);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await expectRefused(jwt, `${h}.${b64({ ...claims, scope: 'admin' })}.${s}`, 'bad_signature');
    await expectRefused(jwt, `${token} `, 'malformed');
    await expectRefused(jwt, `${h}.${p}.`, 'malformed');
  });
});
