import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DecryptionError, EncryptionKeyError } from './errors.js';
import { Encryptor, parseEncryptionKeys } from './encryptor.js';

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'enc-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function decryptError(fn: () => unknown): DecryptionError {
  try {
    fn();
  } catch (error) {
    return error as DecryptionError;
  }
  throw new Error('expected a DecryptionError');
}

function flip(s: string): string {
  const b = Buffer.from(s, 'base64url');
  b[0]! ^= 1;
  return b.toString('base64url');
}

function err(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('Encryptor', () => {
  const enc = new Encryptor({ keys: [{ kid: 'k1', key: K1 }] });

  it('writes v1:<kid>:<iv>:<ciphertext>:<tag> with base64url parts and a fresh IV each time', () => {
    const a = enc.encrypt('påssword ✓');
    const b = enc.encrypt('påssword ✓');
    expect(a).not.toBe(b);
    const [version, kid, iv, ct, tag] = a.split(':');
    expect([version, kid]).toEqual(['v1', 'k1']);
    for (const part of [iv, ct, tag]) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(enc.decrypt(a)).toBe('påssword ✓');
    expect(Encryptor.isEnvelope(a)).toBe(true);
  });

  it('round-trips empty strings and binary values', () => {
    expect(enc.decrypt(enc.encrypt(''))).toBe('');
    const bytes = Buffer.from([0, 255, 10, 13]);
    expect(enc.decryptBytes(enc.encrypt(bytes))).toEqual(bytes);
  });

  it('refuses a tampered ciphertext, IV, tag or key id without echoing the value', () => {
    const value = enc.encrypt('top secret value');
    const parts = value.split(':');
    for (const i of [2, 3, 4]) {
      const tampered = parts.map((p, j) => (j === i ? flip(p) : p)).join(':');
      const error = decryptError(() => enc.decrypt(tampered));
      expect(error).toBeInstanceOf(DecryptionError);
      expect(error.reason).toBe('authentication');
      expect(error.message).not.toContain('top secret');
      expect(error.message).not.toContain(K1);
    }
    // Same key under another id: the authenticated header catches the swap.
    const twin = new Encryptor({
      keys: [
        { kid: 'k1', key: K1 },
        { kid: 'twin', key: K1 },
      ],
    });
    expect(decryptError(() => twin.decrypt(value.replace(':k1:', ':twin:'))).reason).toBe(
      'authentication',
    );
  });

  it('needs the same associated data to decrypt', () => {
    const value = enc.encrypt('4111 1111 1111 1111', { aad: 'cards:user-1' });
    expect(enc.decrypt(value, { aad: 'cards:user-1' })).toBe('4111 1111 1111 1111');
    expect(decryptError(() => enc.decrypt(value, { aad: 'cards:user-2' })).reason).toBe(
      'authentication',
    );
    expect(decryptError(() => enc.decrypt(value)).reason).toBe('authentication');
  });

  it('fails with a wrong key, an unknown key id, or garbage', () => {
    const other = new Encryptor({ keys: [{ kid: 'k1', key: K2 }] });
    expect(decryptError(() => other.decrypt(enc.encrypt('x'))).reason).toBe('authentication');
    const noKey = new Encryptor({ keys: [{ kid: 'k9', key: K2 }] });
    const unknown = decryptError(() => noKey.decrypt(enc.encrypt('x')));
    expect(unknown.reason).toBe('unknown-key');
    expect(unknown.message).toContain('"k1"');
    for (const garbage of [
      '',
      'hello',
      'v1:k1:a:b',
      'v2:k1:AAAA:AAAA:AAAA',
      'v1:k1:***:AA:AA',
      'v1:k 1:AA:AA:AA',
      'v1:k1:AAAA:AA:AAAA',
    ]) {
      expect(decryptError(() => enc.decrypt(garbage)).reason).toBe('malformed');
    }
    expect(decryptError(() => enc.decrypt(42 as unknown as string)).reason).toBe('malformed');
  });

  it('rotates: the new key encrypts, old values still decrypt, reencrypt moves them to the new key', () => {
    const ring = new Encryptor({ keys: [{ kid: 'k1', key: K1 }] });
    const old = ring.encrypt('rotate me', { aad: 'a' });
    ring.rotate({ kid: 'k2', key: K2 });
    expect(ring.activeKid).toBe('k2');
    expect(ring.kids).toEqual(['k1', 'k2']);
    expect(ring.encrypt('new').split(':')[1]).toBe('k2');
    expect(ring.decrypt(old, { aad: 'a' })).toBe('rotate me');
    expect(ring.needsReencrypt(old)).toBe(true);
    const moved = ring.reencrypt(old, { aad: 'a' });
    expect(moved.split(':')[1]).toBe('k2');
    expect(ring.decrypt(moved, { aad: 'a' })).toBe('rotate me');
    expect(ring.reencrypt(moved, { aad: 'a' })).toBe(moved);
    expect(() => ring.reencrypt(moved, { aad: 'b' })).toThrow(DecryptionError);
    ring.removeKey('k1');
    expect(() => ring.decrypt(old, { aad: 'a' })).toThrow(DecryptionError);
    expect(() => ring.removeKey('k2')).toThrow(/rotate first/);
    ring.rotate('k2');
    expect(() => ring.rotate('k7')).toThrow(EncryptionKeyError);
  });

  it('reads keys from a kid:key string, files (text or raw bytes) and picks the active kid', () => {
    const textFile = join(dir, 'k2.txt');
    writeFileSync(textFile, `${K2}\n`);
    const rawFile = join(dir, 'k3.bin');
    writeFileSync(rawFile, Buffer.alloc(32, 3));
    const ring = new Encryptor({
      keys: [
        { kid: 'k2', file: textFile },
        { kid: 'k3', file: rawFile },
        ...parseEncryptionKeys(`k1:${K1}`),
      ],
      activeKid: 'k3',
    });
    expect(ring.activeKid).toBe('k3');
    const fromString = new Encryptor({ keys: `k1:${K1}, k2:${K2}` });
    expect(fromString.activeKid).toBe('k1');
    expect(ring.decrypt(fromString.encrypt('shared'))).toBe('shared');
  });

  it('rejects bad key configuration with messages that name the kid but not the key', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    const bad = err(() => new Encryptor({ keys: [{ kid: 'old', key: short }] }));
    expect(bad).toBeInstanceOf(EncryptionKeyError);
    expect(bad.message).toContain('"old"');
    expect(bad.message).not.toContain(short);
    expect(err(() => new Encryptor({ keys: [] })).message).toMatch(/no keys/);
    expect(err(() => new Encryptor({ keys: [{ kid: 'a:b', key: K1 }] })).message).toMatch(/key id/);
    expect(
      err(() => new Encryptor({ keys: [{ kid: 'a', key: K1 }], activeKid: 'b' })).message,
    ).toMatch(/activeKid "b"/);
    expect(
      err(() => new Encryptor({ keys: [{ kid: 'a', file: join(dir, 'nope') }] })).message,
    ).toMatch(/ENOENT/);
    expect(
      err(
        () =>
          new Encryptor({
            keys: [
              { kid: 'a', key: K1 },
              { kid: 'a', key: K2 },
            ],
          }),
      ).message,
    ).toMatch(/already/);
    expect(err(() => new Encryptor({ keys: 'nokid' })).message).toMatch(/entry 1/);
  });

  it('generates 32-byte base64 keys that the keyring accepts', () => {
    const key = Encryptor.generateKey();
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    const ring = new Encryptor({ keys: [{ kid: 'gen', key }] });
    expect(ring.decrypt(ring.encrypt('ok'))).toBe('ok');
  });
});
