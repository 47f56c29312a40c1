// Module and configuration
export { HttpClientModule } from './http-client.module.js';
export {
  resolveHttpClientModuleOptions,
  type HttpClientModuleOptions,
  type HttpClientOptions,
} from './http-client.options.js';
export { httpClientConfig, httpClientOptionsFrom } from './http-client.config.js';

// HTTP client
export { HttpClient } from './http/http-client.js';
export { HttpClients } from './http/http-clients.js';
export { InjectHttpClient } from './decorators/inject-http-client.decorator.js';
export type { HttpResponse } from './http/http-client.types.js';

// Resilience pipeline (also for non-HTTP calls)
export {
  Resilience,
  ResiliencePolicy,
  countsAsFailure,
  createPolicy,
} from './resilience/resilience.policy.js';
export type { ResilienceOptions } from './resilience/resilience.options.js';

// Errors
export {
  BulkheadFullError,
  CircuitOpenError,
  HttpClientConfigError,
  HttpClientError,
  HttpClientNetworkError,
  HttpClientRequestError,
  HttpClientResponseValidationError,
  HttpClientTimeoutError,
  OperationTimeoutError,
} from './errors.js';

// Internal: for the sibling libs built on this pipeline (@infrastructure/mail, blob-storage,
// webhooks), not for applications.
export { resolveHttpClientOptions } from './http-client.options.js';
export { maskUrl } from '@infrastructure/core';
export { CIRCUIT_STATE_VALUE, type CircuitStateName } from './resilience/resilience.policy.js';
export {
  resilienceSchemaShape,
  resolveResilienceOptions,
  withResilienceDefaults,
  type CircuitBreakerOptions,
  type ResolvedResilienceOptions,
} from './resilience/resilience.options.js';
