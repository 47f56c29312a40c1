import { createHmac, sign, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from './errors.js';
import { JwtKeyring, type JwtAlgorithm } from './jwt-keyring.js';
import { JwtManager } from './jwt.manager.js';
import {
  assertIssuedInPast,
  assertNumericDates,
  precheck,
  toInvalidTokenError,
  toVerifiedToken,
} from './token-checks.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'orders-api';
const NOW = Date.UTC(2030, 0, 1);
const nowS = Math.floor(NOW / 1000);
const clock = () => NOW;
const SKEW = 30;

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64url');

/** Signs raw header and payload text with node:crypto, the way a holder of the key could. */
function signRaw(alg: JwtAlgorithm, key: KeyObject, header: string, payload: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signature(alg, key, input).toString('base64url')}`;
}

function signature(alg: JwtAlgorithm, key: KeyObject, input: string): Buffer {
  switch (alg) {
    case 'HS256':
      return createHmac('sha256', key).update(input).digest();
    case 'RS256':
      return sign('sha256', Buffer.from(input), key);
    case 'ES256':
      return sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, Buffer.from(input), key);
  }
}

const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  iat: nowS,
  exp: nowS + 300,
  jti: 'jti-1',
  ...extra,
});

/** What JwtManager.verify did before the node:crypto path: precheck, jose, the same checks after. */
async function joseOracle(ring: JwtKeyring, token: string): Promise<string> {
  try {
    const { alg, kid } = precheck(token, 8192, ring.algorithms());
    const key = ring.verificationKey(kid);
    if (!key) return 'unknown_kid';
    if (key.alg !== alg) return 'key_mismatch';
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: ISSUER,
      audience: [AUDIENCE],
      typ: 'at+jwt',
      clockTolerance: SKEW,
      currentDate: new Date(NOW),
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    assertNumericDates(payload);
    assertIssuedInPast(payload, nowS, SKEW);
    toVerifiedToken(payload, kid);
    return 'ok';
  } catch (e) {
    return toInvalidTokenError(e).reason;
  }
}

async function outcome(jwt: JwtManager, token: string): Promise<string> {
  return jwt.verify(token).then(
    () => 'ok',
    (e: unknown) => (e instanceof InvalidTokenError ? e.reason : `threw ${String(e)}`),
  );
}

const header = (alg: string, kid: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ alg, kid, typ: 'at+jwt', ...extra });

const claimsJson = (extra?: Record<string, unknown>) => JSON.stringify(claims(extra));

function without(claim: string): string {
  const c: Record<string, unknown> = claims();
  delete c[claim];
  return JSON.stringify(c);
}

/** Headers and payloads (raw JSON text) that each exercise one check, all properly signed. */
function corpus(alg: JwtAlgorithm, kid: string): Array<[string, string, string]> {
  const h = (extra?: Record<string, unknown>) => header(alg, kid, extra);
  return [
    ['valid', h(), claimsJson()],
    ['typ upper case', h({ typ: 'AT+JWT' }), claimsJson()],
    ['typ with application/', h({ typ: 'application/at+jwt' }), claimsJson()],
    ['typ JWT', h({ typ: 'JWT' }), claimsJson()],
    ['typ a number', h({ typ: 1 }), claimsJson()],
    ['no typ', JSON.stringify({ alg, kid }), claimsJson()],
    ['crit empty', h({ crit: [] }), claimsJson()],
    ['crit b64 true', h({ crit: ['b64'], b64: true }), claimsJson()],
    ['crit b64 false', h({ crit: ['b64'], b64: false }), claimsJson()],
    ['crit b64 not boolean', h({ crit: ['b64'], b64: 'no' }), claimsJson()],
    ['crit b64 absent', h({ crit: ['b64'] }), claimsJson()],
    ['crit unknown', h({ crit: ['exp'], exp: 1 }), claimsJson()],
    ['crit not an array', h({ crit: 'b64', b64: true }), claimsJson()],
    ['crit with a number', h({ crit: [1] }), claimsJson()],
    ['b64 false without crit', h({ b64: false }), claimsJson()],
    ['missing iss', h(), without('iss')],
    ['missing aud', h(), without('aud')],
    ['missing sub', h(), without('sub')],
    ['missing iat', h(), without('iat')],
    ['missing exp', h(), without('exp')],
    ['wrong iss', h(), claimsJson({ iss: 'https://evil.test' })],
    ['iss a number', h(), claimsJson({ iss: 1 })],
    ['aud array with ours', h(), claimsJson({ aud: ['other', AUDIENCE] })],
    ['aud array without ours', h(), claimsJson({ aud: ['other'] })],
    ['aud a number', h(), claimsJson({ aud: 1 })],
    ['aud an object', h(), claimsJson({ aud: { a: AUDIENCE } })],
    ['sub empty', h(), claimsJson({ sub: '' })],
    ['sub a number', h(), claimsJson({ sub: 1 })],
    ['exp a string', h(), claimsJson({ exp: String(nowS + 300) })],
    ['iat a string', h(), claimsJson({ iat: String(nowS) })],
    ['nbf a string', h(), claimsJson({ nbf: String(nowS) })],
    ['nbf null', h(), claimsJson({ nbf: null })],
    ['nbf within skew', h(), claimsJson({ nbf: nowS + SKEW })],
    ['nbf beyond skew', h(), claimsJson({ nbf: nowS + SKEW + 1 })],
    ['exp within skew', h(), claimsJson({ iat: nowS - 600, exp: nowS - SKEW + 1 })],
    ['exp at skew', h(), claimsJson({ iat: nowS - 600, exp: nowS - SKEW })],
    ['iat beyond skew', h(), claimsJson({ iat: nowS + SKEW + 1 })],
    ['exp infinite', h(), payloadText({ exp: '1e400' })],
    ['nbf minus infinite', h(), payloadText({ nbf: '-1e400' })],
    ['exp minus infinite', h(), payloadText({ exp: '-1e400' })],
    ['payload an array', h(), '[1,2]'],
    ['payload null', h(), 'null'],
    ['payload a string', h(), '"claims"'],
    ['payload not JSON', h(), 'claims'],
    ['payload with __proto__', h(), payloadText({ ['__proto__']: '{"admin":true}' })],
  ];
}

/** The claims as JSON text, some members written raw. */
function payloadText(raw: Record<string, string>): string {
  const members = Object.entries(claims()).map(([k, v]) => `"${k}":${raw[k] ?? JSON.stringify(v)}`);
  for (const [k, v] of Object.entries(raw)) if (!(k in claims())) members.push(`"${k}":${v}`);
  return `{${members.join(',')}}`;
}

const RINGS: Array<[JwtAlgorithm, () => JwtKeyring]> = [
  ['HS256', () => new JwtKeyring({ keys: [], algorithm: 'HS256' })],
  ['RS256', () => new JwtKeyring({ keys: [], algorithm: 'RS256' })],
  ['ES256', () => new JwtKeyring({ keys: [], algorithm: 'ES256' })],
  ['EdDSA', () => new JwtKeyring({ keys: [], algorithm: 'EdDSA' })],
];

describe('JwtManager.verify on node:crypto answers as jose did', () => {
  it.each(RINGS)('%s: every header and claim check, same reason as jose', async (alg, ring) => {
    const keyring = ring();
    const { kid, key } = keyring.signingKey();
    const jwt = new JwtManager({ issuer: ISSUER, audience: AUDIENCE, keyring, clock });
    const results: Array<[string, string, string]> = [];
    for (const [name, h, p] of corpus(alg, kid)) {
      const token = signRaw(alg, key, h, p);
      results.push([name, await outcome(jwt, token), await joseOracle(keyring, token)]);
    }
    expect(results.filter(([, ours, jose]) => ours !== jose)).toEqual([]);
    // The corpus is not trivially all-refused or all-accepted.
    expect(results.filter(([, ours]) => ours === 'ok').length).toBeGreaterThanOrEqual(7);
    expect(new Set(results.map(([, ours]) => ours)).size).toBeGreaterThanOrEqual(8);
  });

  it.each(RINGS)('%s: mangled signatures, same reason as jose', async (alg, ring) => {
    const keyring = ring();
    const { kid, key } = keyring.signingKey();
    const jwt = new JwtManager({ issuer: ISSUER, audience: AUDIENCE, keyring, clock });
    const input = `${b64(header(alg, kid))}.${b64(JSON.stringify(claims()))}`;
    const good = signature(alg, key, input);
    const der =
      alg === 'ES256' ? sign('sha256', Buffer.from(input), key) : Buffer.concat([good, good]);
    const signatures = [
      good.subarray(0, good.length - 1),
      good.subarray(1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.alloc(good.length),
      Buffer.from([1]),
      der,
    ].map((s) => s.toString('base64url'));
    signatures.push(`${good.toString('base64url')}A`, 'A'.repeat(5));
    const results: Array<[string, string, string]> = [];
    for (const s of signatures) {
      const token = `${input}.${s}`;
      results.push([s.slice(0, 12), await outcome(jwt, token), await joseOracle(keyring, token)]);
    }
    expect(results.filter(([, ours, jose]) => ours !== jose)).toEqual([]);
    expect(results.every(([, ours]) => ours !== 'ok')).toBe(true);
    await expect(jwt.verify(`${input}.${good.toString('base64url')}`)).resolves.toMatchObject({
      sub: 'user-1',
      kid,
    });
  });

  it('refuses non-canonical base64url (unused bits set), which jose would accept', async () => {
    const keyring = new JwtKeyring({ keys: [], algorithm: 'HS256' });
    const { kid, key } = keyring.signingKey();
    const jwt = new JwtManager({ issuer: ISSUER, audience: AUDIENCE, keyring, clock });
    const token = signRaw('HS256', key, header('HS256', kid), JSON.stringify(claims()));
    // A 32-byte HMAC is 43 characters: the last one carries 2 unused bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    const variant = `${token.slice(0, -1)}${alphabet[last | 1]}`;
    expect(variant).not.toBe(token);
    expect(Buffer.from(variant.split('.')[2]!, 'base64url')).toEqual(
      Buffer.from(token.split('.')[2]!, 'base64url'),
    );
    await expect(joseOracle(keyring, variant)).resolves.toBe('ok');
    await expect(outcome(jwt, variant)).resolves.toBe('malformed');
    await expect(outcome(jwt, token)).resolves.toBe('ok');
  });

  it('keeps the messages jose gave (logs and audit records read them)', async () => {
    const keyring = new JwtKeyring({ keys: [], algorithm: 'ES256' });
    const { kid, key } = keyring.signingKey();
    const jwt = new JwtManager({ issuer: ISSUER, audience: AUDIENCE, keyring, clock });
    const messages = async (h: string, p: string) => {
      const token = signRaw('ES256', key, h, p);
      const ours = await jwt.verify(token).catch((e: Error) => e.message);
      const jose = await jwtVerify(token, keyring.verificationKey(kid)!.key, {
        issuer: ISSUER,
        audience: [AUDIENCE],
        typ: 'at+jwt',
        clockTolerance: SKEW,
        currentDate: new Date(NOW),
        requiredClaims: ['exp', 'iat', 'sub'],
      }).catch((e: unknown) => toInvalidTokenError(e).message);
      return [ours, jose];
    };
    for (const [h, p] of [
      [header('ES256', kid, { typ: 'JWT' }), JSON.stringify(claims())],
      [header('ES256', kid), JSON.stringify(claims({ iss: 'x' }))],
      [header('ES256', kid), JSON.stringify(claims({ aud: 'x' }))],
      [header('ES256', kid), JSON.stringify(claims({ exp: nowS - 100 }))],
      [header('ES256', kid), JSON.stringify(claims({ nbf: nowS + 100 }))],
      [header('ES256', kid), JSON.stringify(claims({ nbf: 'x' }))],
      [header('ES256', kid), '[]'],
      [header('ES256', kid, { crit: ['zip'], zip: 'DEF' }), JSON.stringify(claims())],
    ] as const) {
      const [ours, jose] = await messages(h, p);
      expect(ours).toBe(jose);
    }
  });
});
