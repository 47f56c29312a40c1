import { describe, expect, it } from 'vitest';
import { decryptValue, encryptValue, isEncryptedValue, parseEncryptionKey } from './encryption.js';
import { ConfigDecryptionError } from './errors.js';

describe('config value encryption', () => {
  const key = parseEncryptionKey(Buffer.alloc(32, 1).toString('base64'));

  it('round-trips with a fresh IV each time', () => {
    const a = encryptValue('påssword ✓', key);
    const b = encryptValue('påssword ✓', key);
    expect(a).not.toBe(b);
    expect(isEncryptedValue(a)).toBe(true);
    expect(decryptValue(a, key)).toBe('påssword ✓');
  });

  it('accepts hex keys', () => {
    expect(parseEncryptionKey('ab'.repeat(32))).toHaveLength(32);
  });

  it('rejects truncated values', () => {
    expect(() => decryptValue('enc:v1:AAAA', key)).toThrow(ConfigDecryptionError);
  });
});
