export { SecurityModule, SECURITY_MODULE_OPTIONS } from './security.module.js';
export {
  SECURITY_OPTIONS,
  type RateLimitOptions,
  type SecurityOptions,
} from './security.options.js';
export {
  jwtConfig,
  oidcConfig,
  parseApiKey,
  securityConfig,
  securityOptionsFrom,
} from './security.config.js';
export { AuthGuard, TOKEN_VERIFIERS, type AuthAudit } from './http/auth.guard.js';
export {
  AccessDeniedError,
  AuthenticationError,
  type BearerErrorCode,
} from './http/auth-errors.js';
export { ApiKeys, type ApiKeyDefinition } from './http/api-keys.js';
export { CurrentUser, Public, Roles, Scopes } from './http/decorators.js';
export type { Principal, TokenVerifier } from './http/principal.js';
export {
  setupSecurity,
  tlsOptionsFrom,
  type HttpHardeningOptions,
  type ServerTimeouts,
} from './http/hardening.js';
export { RateLimitGuard } from './rate-limit/rate-limit.guard.js';
export {
  MemoryThrottlerStorage,
  type MemoryThrottlerStorageOptions,
} from './rate-limit/memory-throttler.storage.js';
export {
  RedisThrottlerStorage,
  type RedisThrottlerStorageOptions,
} from './rate-limit/redis-throttler.storage.js';
export { clientIp, rateLimitBucket } from './rate-limit/client-ip.js';
export * from './jwt/index.js';
export * from './oidc/index.js';
export * from './crypto/index.js';
export * from './secrets/index.js';
export * from './audit/index.js';
