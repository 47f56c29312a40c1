import { HealthRegistry, MetricsService } from '@infrastructure/monitoring';
import type { Provider } from '@nestjs/common';
import { HttpClients } from './http/http-clients.js';
import { httpClientToken, HTTP_CLIENT_OPTIONS } from './http-client.constants.js';
import { HTTP_CLIENT_MODULE_OPTIONS } from './http-client.module-definition.js';
import {
  resolveHttpClientModuleOptions,
  type HttpClientModuleOptions,
  type ResolvedHttpClientModuleOptions,
} from './http-client.options.js';
import { HttpClientsHealth } from './health/http-clients.health.js';

/** Validated options with defaults (a bad option fails the boot here, naming its key). */
export function optionsProvider(): Provider {
  return {
    provide: HTTP_CLIENT_OPTIONS,
    useFactory: (o: HttpClientModuleOptions) => resolveHttpClientModuleOptions(o),
    inject: [HTTP_CLIENT_MODULE_OPTIONS],
  };
}

/** The clients, with metrics when MonitoringModule is there. */
export function clientsProvider(): Provider {
  return {
    provide: HttpClients,
    useFactory: (o: ResolvedHttpClientModuleOptions, metrics?: MetricsService) =>
      new HttpClients(o, metrics),
    inject: [HTTP_CLIENT_OPTIONS, { token: MetricsService, optional: true }],
  };
}

/** Registers a health check per client when MonitoringModule is there. */
export function healthProvider(): Provider {
  return {
    provide: HttpClientsHealth,
    useFactory: (clients: HttpClients, registry?: HealthRegistry) =>
      new HttpClientsHealth(clients, registry),
    inject: [HttpClients, { token: HealthRegistry, optional: true }],
  };
}

/** `@InjectHttpClient(name)`. */
export function clientProvider(name: string): Provider {
  return {
    provide: httpClientToken(name),
    useFactory: (clients: HttpClients) => clients.get(name),
    inject: [HttpClients],
  };
}
