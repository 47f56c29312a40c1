import { describe, expect, it } from 'vitest';
import { aesGcmOpen, aesGcmSeal, decodeAes256Key } from './aes-gcm.js';

describe('AES-256-GCM primitive', () => {
  const key = Buffer.alloc(32, 9);

  it('round-trips with associated data and refuses other associated data', () => {
    const sealed = aesGcmSeal(key, 'value', Buffer.from('ctx-a'));
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.tag).toHaveLength(16);
    expect(aesGcmOpen(key, sealed, Buffer.from('ctx-a')).toString()).toBe('value');
    expect(() => aesGcmOpen(key, sealed, Buffer.from('ctx-b'))).toThrow(/unable to authenticate/);
    expect(() => aesGcmOpen(key, { ...sealed, tag: sealed.tag.subarray(0, 8) })).toThrow(
      RangeError,
    );
  });

  it('decodes 32-byte keys from hex, base64 and base64url only', () => {
    expect(decodeAes256Key('ab'.repeat(32))).toHaveLength(32);
    expect(decodeAes256Key(key.toString('base64'))).toEqual(key);
    expect(decodeAes256Key(Buffer.alloc(32, 0xfb).toString('base64url'))).toHaveLength(32);
    expect(decodeAes256Key('c2hvcnQ=')).toBeUndefined();
  });
});
