export {
  Encryptor,
  parseEncryptionKeys,
  type EncryptOptions,
  type EncryptionKeyConfig,
  type EncryptionOptions,
} from './encryptor.js';
export { encryptedColumn, type EncryptedColumnOptions } from './encrypted-column.js';
export {
  PasswordHasher,
  type Argon2Params,
  type PasswordHashAlgorithm,
  type PasswordHashingOptions,
  type ScryptParams,
} from './password-hasher.js';
export { DecryptionError, EncryptionKeyError, PasswordHashingError } from './errors.js';
