export {
  cfg,
  defineConfig,
  type ConfigDefinition,
  type ConfigField,
  type ConfigFields,
  type ConfigOf,
  type ConfigTree,
  type ConfigValues,
  type FieldSpec,
} from './config-definition.js';
export { ConfigurationModule } from './configuration.module.js';
export { CONFIGURATION_MODULE_OPTIONS } from './configuration.module-definition.js';
export type {
  ConfigurationModuleExtras,
  ConfigurationModuleOptions,
} from './configuration.options.js';
export { LOADED_CONFIGURATION } from './configuration.constants.js';
export { ConfigurationService } from './configuration.service.js';
export { InjectConfig } from './decorators/inject-config.decorator.js';
export {
  ENCRYPTION_KEY_ENV,
  LoadedConfiguration,
  loadConfiguration,
  type ConfigEntry,
  type LoadOptions,
} from './load-configuration.js';
export { decryptValue, encryptValue, isEncryptedValue, parseEncryptionKey } from './encryption.js';
export {
  AES_256_GCM,
  aesGcmOpen,
  aesGcmSeal,
  decodeAes256Key,
  type AesGcmSealed,
} from './aes-gcm.js';
export { detectDrift, formatDrift, type ConfigDrift } from './drift.js';
export { envTable, runConfigCli, type CliIo } from './cli.js';
export type { ValueSource } from './sources.js';
export {
  ConfigDecryptionError,
  ConfigDefinitionError,
  ConfigValidationError,
  type ConfigProblem,
} from './errors.js';
export { appConfig, httpConfig } from './standard-config.js';
// Moved to @infrastructure/core; re-exported for callers that mask URLs in their own logs.
export { maskUrlPassword } from '@infrastructure/core';
