import { Module, type DynamicModule } from '@nestjs/common';
import { extendModule } from '@infrastructure/core';
import { HttpClients } from './http/http-clients.js';
import { httpClientToken, HTTP_CLIENT_OPTIONS } from './http-client.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './http-client.module-definition.js';
import {
  clientProvider,
  clientsProvider,
  healthProvider,
  optionsProvider,
} from './http-client.providers.js';

function withClients(module: DynamicModule, names: readonly string[]): DynamicModule {
  const unique = [...new Set(names)];
  return extendModule(module, {
    providers: [
      optionsProvider(),
      clientsProvider(),
      healthProvider(),
      ...unique.map(clientProvider),
    ],
    exports: [HTTP_CLIENT_OPTIONS, HttpClients, ...unique.map(httpClientToken)],
  });
}

/**
 * Resilient outbound HTTP clients: per client a keep-alive pool (undici), a resilience pipeline
 * (bulkhead → circuit breaker → retry → per-attempt timeout, cockatiel), trace/correlation
 * propagation, optional bearer token, typed errors, metrics and an `http:<name>` health check.
 */
@Module({})
export class HttpClientModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    const names = [...Object.keys(options.clients ?? {}), ...(options.clientNames ?? [])];
    return withClients(super.forRoot(options), names);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withClients(super.forRootAsync(options), options.clientNames ?? []);
  }
}
