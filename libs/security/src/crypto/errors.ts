/**
 * A value could not be decrypted: malformed envelope, unknown key id, wrong key, wrong associated
 * data or tampered bytes. The message says which, never the plaintext, the key or the ciphertext.
 * Not an HTTP error: reaching a client it is a 500 (a server-side data or key problem).
 */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  constructor(
    /** Why: `malformed` envelope, `unknown-key` id, or `authentication` failed (key, AAD, tampering). */
    readonly reason: 'malformed' | 'unknown-key' | 'authentication',
    message: string,
  ) {
    super(message);
  }
}

/** Bad encryption key configuration (wrong length, duplicate or unknown kid, unreadable file). */
export class EncryptionKeyError extends Error {
  override readonly name = 'EncryptionKeyError';
}

/** Bad `PasswordHasher` options or an unusable password (empty, too long). */
export class PasswordHashingError extends Error {
  override readonly name = 'PasswordHashingError';
}
