import { Module, type DynamicModule } from '@nestjs/common';
import { extendModule } from '@infrastructure/core';
import { HttpClients } from './http/http-clients.js';
import { httpClientToken, INTEGRATIONS_OPTIONS } from './integrations.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './integrations.module-definition.js';
import {
  clientProvider,
  clientsProvider,
  healthProvider,
  optionsProvider,
} from './integrations.providers.js';

function withIntegrations(module: DynamicModule, names: readonly string[]): DynamicModule {
  const unique = [...new Set(names)];
  return extendModule(module, {
    providers: [
      optionsProvider(),
      clientsProvider(),
      healthProvider(),
      ...unique.map(clientProvider),
    ],
    exports: [INTEGRATIONS_OPTIONS, HttpClients, ...unique.map(httpClientToken)],
  });
}

/**
 * Resilient outbound HTTP clients: per client a keep-alive pool (undici), a resilience pipeline
 * (bulkhead → circuit breaker → retry → per-attempt timeout, cockatiel), trace/correlation
 * propagation, optional bearer token, typed errors, metrics and an `http:<name>` health check.
 */
@Module({})
export class IntegrationsModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    const names = [...Object.keys(options.clients ?? {}), ...(options.clientNames ?? [])];
    return withIntegrations(super.forRoot(options), names);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withIntegrations(super.forRootAsync(options), options.clientNames ?? []);
  }
}
