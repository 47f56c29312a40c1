import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../jwt/errors.js';
import { OidcUnavailableError } from './errors.js';
import { RemoteJwks } from './remote-jwks.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ecJwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec', use: 'sig' };
const rsaJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa' };

/** A JWKS endpoint served from memory (the logic under test is the filtering and caching). */
function jwksServer(body: () => unknown, status = 200) {
  let calls = 0;
  const fetchFn = (() => {
    calls++;
    return Promise.resolve(new Response(JSON.stringify(body()), { status }));
  }) as unknown as typeof fetch;
  return { fetchFn, calls: () => calls };
}

function jwks(fetchFn: typeof fetch, now = () => 0) {
  return new RemoteJwks({
    url: 'https://idp.test/jwks',
    maxAgeMs: 600_000,
    cooldownMs: 30_000,
    timeoutMs: 1000,
    now,
    fetch: fetchFn,
  });
}

async function reason(p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InvalidTokenError);
  return (e as InvalidTokenError).reason;
}

describe('RemoteJwks', () => {
  it('ignores symmetric keys, private keys, encryption keys and keys without kid', async () => {
    const server = jwksServer(() => ({
      keys: [
        { kty: 'oct', kid: 'hs', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' },
        { ...ec.privateKey.export({ format: 'jwk' }), kid: 'priv' },
        { ...ecJwk, kid: 'enc', use: 'enc' },
        { ...ecJwk, kid: undefined },
        ecJwk,
        rsaJwk,
      ],
    }));
    const set = jwks(server.fetchFn);
    await expect(set.keyFor('ec', 'ES256')).resolves.toBeDefined();
    await expect(set.keyFor('rsa', 'PS256')).resolves.toBeDefined();
    for (const kid of ['hs', 'priv', 'enc']) {
      expect(await reason(set.keyFor(kid, 'ES256'))).toBe('unknown_kid');
    }
  });

  it('refuses a key whose type, curve or declared alg does not fit the token alg', async () => {
    const server = jwksServer(() => ({ keys: [ecJwk, { ...rsaJwk, alg: 'RS256' }] }));
    const set = jwks(server.fetchFn);
    expect(await reason(set.keyFor('ec', 'RS256'))).toBe('key_mismatch');
    expect(await reason(set.keyFor('ec', 'ES384'))).toBe('key_mismatch');
    expect(await reason(set.keyFor('rsa', 'PS256'))).toBe('key_mismatch');
    expect(await reason(set.keyFor('rsa', 'HS256'))).toBe('key_mismatch');
    await expect(set.keyFor('rsa', 'RS256')).resolves.toBeDefined();
  });

  it('fails with OidcUnavailableError while no keys could be loaded, retrying at most once a second', async () => {
    let status = 500;
    let calls = 0;
    const fetchFn = (() => {
      calls++;
      return Promise.resolve(new Response(JSON.stringify({ keys: [ecJwk] }), { status }));
    }) as unknown as typeof fetch;
    let now = 0;
    const set = jwks(fetchFn, () => now);
    await expect(set.keyFor('ec', 'ES256')).rejects.toBeInstanceOf(OidcUnavailableError);
    status = 200;
    // within a second of the failure: fail fast, no new request
    await expect(set.keyFor('ec', 'ES256')).rejects.toThrow('could not be loaded yet');
    expect(calls).toBe(1);
    now += 1000;
    await expect(set.keyFor('ec', 'ES256')).resolves.toBeDefined();
    expect(calls).toBe(2);
  });

  it('refuses a body that is not a JSON object', async () => {
    const set = jwks(jwksServer(() => [1, 2]).fetchFn);
    await expect(set.keyFor('ec', 'ES256')).rejects.toThrow('is not a JSON object');
  });
});
