export { Secret } from './secret.js';
export { ANY_SECRET, SecretsProvider, type SecretChangeListener } from './secrets-provider.js';
export { EnvSecretsProvider, type EnvSecretsOptions } from './env-secrets.provider.js';
export { FileSecretsProvider, type FileSecretsOptions } from './file-secrets.provider.js';
export {
  DirectorySecretsProvider,
  type DirectorySecretsOptions,
} from './directory-secrets.provider.js';
export {
  CompositeSecretsProvider,
  createSecretsProvider,
  type SecretsOptions,
} from './composite-secrets.provider.js';
export { SecretNotFoundError, SecretsSourceError } from './errors.js';
