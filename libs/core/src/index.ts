// Optional drivers
export { loadDriver, loadOptional, MissingDependencyError } from './drivers.js';

// Deadlines
export { TimeoutError, withTimeout } from './with-timeout.js';

// Decorators and modules
export { replaceMethod } from './replace-method.js';
export { extendModule } from './extend-module.js';
export { validateModuleOptions } from './validate-options.js';
export { PUBLIC_ROUTE, PublicRoute } from './public-route.js';
export { RouteMemo } from './route-memo.js';

// Transactions (provided by persistence, used by libs that may run inside one)
export { AfterCommit } from './after-commit.js';

// JSON data (the round trip without the text)
export { copyJsonData, toJsonData } from './json-data.js';

// Errors
export { errorTraits, traitOf, type ErrorTraits } from './error-traits.js';

// URLs and Redis (the ioredis helpers are the `@infrastructure/core/redis` entry: their
// declarations name ioredis types, and ioredis is an optional peer)
export { maskUrl, maskUrlPassword, maskUrlsInText, SECRET_QUERY_PARAM } from './mask-url.js';
export type { RedisClient } from './redis-client.js';

// Rotating secrets (the security lib's SecretsProvider has this shape)
export {
  isSecretSource,
  isSecretReference,
  SECRET_REFERENCE_EXPECTED,
  type RevealableSecret,
  type SecretReference,
  type SecretSource,
} from './secret-source.js';
