import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The AES-256-GCM parameters every encrypted value in the libs uses (config `enc:v1:` values and
 * the security lib's `Encryptor` envelopes): 32-byte key, 12-byte random IV, 16-byte tag.
 */
export const AES_256_GCM = { keyBytes: 32, ivBytes: 12, tagBytes: 16 } as const;

/** The three parts of an AES-256-GCM encryption. */
export interface AesGcmSealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * Encrypts `plaintext` with AES-256-GCM under a fresh random IV; `aad` (associated data) is
 * authenticated but not encrypted: decryption needs the same bytes.
 */
export function aesGcmSeal(key: Buffer, plaintext: Buffer | string, aad?: Buffer): AesGcmSealed {
  const iv = randomBytes(AES_256_GCM.ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([
    typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext),
    cipher.final(),
  ]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Decrypts and authenticates. Throws node:crypto's error when the key, IV, tag or `aad` do not
 * match (a tampered value or the wrong key): callers map it to their own error type, whose message
 * must not carry the key or the plaintext.
 */
export function aesGcmOpen(key: Buffer, sealed: AesGcmSealed, aad?: Buffer): Buffer {
  if (sealed.iv.length !== AES_256_GCM.ivBytes || sealed.tag.length !== AES_256_GCM.tagBytes) {
    throw new RangeError('AES-256-GCM: bad IV or tag length');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, {
    authTagLength: AES_256_GCM.tagBytes,
  });
  decipher.setAuthTag(sealed.tag);
  if (aad) decipher.setAAD(aad);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}

/**
 * Decodes a 256-bit key written as hex (64 characters) or base64/base64url, or returns
 * `undefined` when it is not 32 bytes. Callers throw their own error, naming the setting.
 */
export function decodeAes256Key(raw: string): Buffer | undefined {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : Buffer.from(text, 'base64');
  return key.length === AES_256_GCM.keyBytes ? key : undefined;
}
