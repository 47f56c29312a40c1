import { describe, expect, it } from 'vitest';
import { PasswordHashingError } from './errors.js';
import { PasswordHasher } from './password-hasher.js';

// Small costs keep the unit tests fast; the defaults are measured in the int spec.
const argon = new PasswordHasher({ argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
const scrypt = new PasswordHasher({ algorithm: 'scrypt', scrypt: { cost: 2 ** 10 } });

describe('PasswordHasher', () => {
  it('hashes with argon2id, parameters in the hash, and verifies', async () => {
    const hash = await argon.hash('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await argon.verify('correct horse', hash)).toBe(true);
    expect(await argon.verify('correct horsf', hash)).toBe(false);
    expect(await argon.hash('correct horse')).not.toBe(hash);
  });

  it('hashes with scrypt, parameters in the hash, and verifies', async () => {
    const hash = await scrypt.hash('correct horse');
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await scrypt.verify('correct horse', hash)).toBe(true);
    expect(await scrypt.verify('Correct horse', hash)).toBe(false);
  });

  it('verifies hashes of the other algorithm (migration) and asks for a rehash', async () => {
    const fromScrypt = await scrypt.hash('pw');
    expect(await argon.verify('pw', fromScrypt)).toBe(true);
    expect(argon.needsRehash(fromScrypt)).toBe(true);
    expect(scrypt.needsRehash(fromScrypt)).toBe(false);
  });

  it('needsRehash when the stored costs are below the configured ones, not above', async () => {
    const weak = await argon.hash('pw');
    const stronger = new PasswordHasher({
      argon2: { memoryCost: 2048, timeCost: 1, parallelism: 1 },
    });
    expect(stronger.needsRehash(weak)).toBe(true);
    expect(argon.needsRehash(weak)).toBe(false);
    const weaker = new PasswordHasher({ argon2: { memoryCost: 512, timeCost: 1, parallelism: 1 } });
    expect(weaker.needsRehash(weak)).toBe(false);
    const weakScrypt = await scrypt.hash('pw');
    expect(
      new PasswordHasher({ algorithm: 'scrypt', scrypt: { cost: 2 ** 11 } }).needsRehash(
        weakScrypt,
      ),
    ).toBe(true);
    expect(argon.needsRehash('garbage')).toBe(true);
  });

  it('returns false for malformed, unsupported or absurd stored hashes instead of throwing', async () => {
    for (const bad of [
      '',
      'plaintext',
      '$2b$10$abcdefghijklmnopqrstuv',
      '$argon2id$v=19$m=1024,p=1,t=1$c2FsdA$',
      '$argon2id$v=19$m=999999999,p=1,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$argon2id$v=19$m=1024,p=1,t=1$!!!$aGFzaA',
      '$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$scrypt$ln=10,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaA',
    ]) {
      expect(await argon.verify('pw', bad)).toBe(false);
    }
    expect(await argon.verify('pw', 42 as unknown as string)).toBe(false);
  });

  it('does a dummy verification when there is no stored hash (unknown user) and returns false', async () => {
    expect(await argon.verify('pw', undefined)).toBe(false);
    expect(await scrypt.verify('pw', null)).toBe(false);
  });

  it('refuses empty and over-long passwords', async () => {
    await expect(argon.hash('')).rejects.toThrow(PasswordHashingError);
    const small = new PasswordHasher({
      algorithm: 'scrypt',
      scrypt: { cost: 2 ** 10 },
      maxPasswordBytes: 8,
    });
    await expect(small.hash('123456789')).rejects.toThrow(/longer than 8 bytes/);
    const hash = await small.hash('12345678');
    expect(await small.verify('123456789', hash)).toBe(false);
    expect(await small.verify('', hash)).toBe(false);
  });

  it('rejects bad options', () => {
    expect(() => new PasswordHasher({ algorithm: 'md5' as 'scrypt' })).toThrow(/algorithm/);
    expect(() => new PasswordHasher({ scrypt: { cost: 1000 } })).toThrow(/power of two/);
    expect(() => new PasswordHasher({ argon2: { timeCost: 0 } })).toThrow(PasswordHashingError);
  });
});
