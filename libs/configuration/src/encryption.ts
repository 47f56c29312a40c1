import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigDecryptionError } from './errors.js';

/** Prefix of an encrypted configuration value. */
export const ENCRYPTED_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Parses a 256-bit key given as base64 (44 chars) or hex (64 chars).
 * @throws ConfigDecryptionError when the key is not 32 bytes.
 */
export function parseEncryptionKey(raw: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : Buffer.from(text, 'base64');
  if (key.length !== 32) {
    throw new ConfigDecryptionError(
      `CONFIG_ENCRYPTION_KEY must be 32 bytes as base64 or hex, got ${key.length} bytes ` +
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
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ENCRYPTED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
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
  const iv = raw.subarray(0, IV_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new ConfigDecryptionError(
      'cannot decrypt enc:v1: value (wrong CONFIG_ENCRYPTION_KEY or tampered value)',
    );
  }
}
