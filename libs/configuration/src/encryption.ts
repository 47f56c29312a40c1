import { AES_256_GCM, aesGcmOpen, aesGcmSeal, decodeAes256Key } from './aes-gcm.js';
import { ConfigDecryptionError } from './errors.js';

/** Prefix of an encrypted configuration value. */
export const ENCRYPTED_PREFIX = 'enc:v1:';
const { ivBytes: IV_BYTES, tagBytes: TAG_BYTES } = AES_256_GCM;

/**
 * Parses a 256-bit key given as base64 (44 chars) or hex (64 chars).
 * @throws ConfigDecryptionError when the key is not 32 bytes.
 */
export function parseEncryptionKey(raw: string): Buffer {
  const key = decodeAes256Key(raw);
  if (!key) {
    const length = Buffer.from(raw.trim(), 'base64').length;
    throw new ConfigDecryptionError(
      `CONFIG_ENCRYPTION_KEY must be 32 bytes as base64 or hex, got ${length} bytes ` +
        `(generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")`,
    );
  }
  return key;
}

/** True when the value is an `enc:v1:` encrypted value. */
export function isEncryptedValue(value: string): boolean {
  return value.startsWith(ENCRYPTED_PREFIX);
}

/** Encrypts a configuration value with AES-256-GCM: `enc:v1:<base64(iv | ciphertext | tag)>`. */
export function encryptValue(plaintext: string, key: Buffer): string {
  const { iv, ciphertext, tag } = aesGcmSeal(key, plaintext);
  return ENCRYPTED_PREFIX + Buffer.concat([iv, ciphertext, tag]).toString('base64');
}

/**
 * Decrypts an `enc:v1:` value.
 * @throws ConfigDecryptionError when the value is malformed, the key is wrong or the value was tampered with.
 */
export function decryptValue(value: string, key: Buffer): string {
  if (!isEncryptedValue(value)) throw new ConfigDecryptionError('not an enc:v1: value');
  const raw = Buffer.from(value.slice(ENCRYPTED_PREFIX.length), 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) {
    throw new ConfigDecryptionError('enc:v1: value is truncated');
  }
  try {
    return aesGcmOpen(key, {
      iv: raw.subarray(0, IV_BYTES),
      ciphertext: raw.subarray(IV_BYTES, raw.length - TAG_BYTES),
      tag: raw.subarray(raw.length - TAG_BYTES),
    }).toString('utf8');
  } catch {
    throw new ConfigDecryptionError(
      'cannot decrypt enc:v1: value (wrong CONFIG_ENCRYPTION_KEY or tampered value)',
    );
  }
}
