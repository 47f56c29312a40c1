export {
  JwtKeyring,
  JWT_ALGORITHMS,
  JWT_KEYRING_OPTIONS,
  type JwtAlgorithm,
  type JwtKeyConfig,
  type JwtKeyInfo,
  type JwtKeyringChange,
  type JwtKeyringOptions,
  type PublicJwk,
} from './jwt-keyring.js';
export {
  JwtManager,
  type CreateTokenOptions,
  type TokenPair,
  type VerifyOptions,
} from './jwt.manager.js';
export type { FailureMode, JwtManagerOptions, TokenClaims } from './jwt.options.js';
export { ACCESS_TOKEN_TYPE, JWT_MANAGER_OPTIONS, REFRESH_TOKEN_TYPE } from './jwt.constants.js';
export type { Duration } from './duration.js';
export { RevocationStore } from './revocation-store.js';
export { VerifiedTokenCache } from './verified-token-cache.js';
export { MemoryRevocationStore } from './stores/memory-revocation.store.js';
export {
  RedisRevocationStore,
  type RedisRevocationStoreOptions,
} from './stores/redis-revocation.store.js';
export { scopesOf, type ClaimMapping, type VerifiedToken } from './token-checks.js';
export {
  InsufficientScopeError,
  InvalidGrantError,
  InvalidTokenError,
  JwtConfigError,
  RevocationStoreUnavailableError,
  type InvalidGrantReason,
  type InvalidTokenReason,
} from './errors.js';
