import type { ValueTransformer } from 'typeorm';
import type { Encryptor } from './encryptor.js';

/** Options of {@link encryptedColumn}. */
export interface EncryptedColumnOptions {
  /**
   * Associated data binding the stored values to this column (e.g. `'customers.tax_id'`): a
   * ciphertext copied into another column with another `aad` no longer decrypts.
   * @default none
   */
  aad?: string;
}

/**
 * A TypeORM column transformer for field-level encryption: the entity holds the plaintext string,
 * the column holds the `v1:<kid>:…` envelope; `null`/`undefined` stay as they are. Use a `text`
 * column (an envelope is about 4/3 of the value plus ~50 characters).
 *
 * Encrypted columns cannot be searched or indexed by value (each encryption uses a fresh IV),
 * and TypeORM sees them as changed on every save of a loaded entity (it compares encryptions),
 * which re-encrypts them with the active key: harmless, and a free re-encryption after rotation.
 *
 * @example
 * @Column({ type: 'text', nullable: true, transformer: encryptedColumn(encryptor, { aad: 'customers.tax_id' }) })
 * taxId!: string | null;
 */
export function encryptedColumn(
  encryptor: Encryptor,
  options: EncryptedColumnOptions = {},
): ValueTransformer {
  const aad = options.aad;
  return {
    to: (value: unknown) => {
      if (value === null || value === undefined) return value;
      if (typeof value !== 'string') {
        throw new TypeError(`encryptedColumn: expected a string or null, got ${typeof value}`);
      }
      return encryptor.encrypt(value, { aad });
    },
    from: (value: unknown) => {
      if (value === null || value === undefined) return value;
      return encryptor.decrypt(String(value), { aad });
    },
  };
}
