import { HealthRegistry, MetricsService } from '@infrastructure/monitoring';
import type { Provider } from '@nestjs/common';
import { HttpClients } from './http/http-clients.js';
import { httpClientToken, INTEGRATIONS_OPTIONS } from './integrations.constants.js';
import { INTEGRATIONS_MODULE_OPTIONS } from './integrations.module-definition.js';
import {
  resolveIntegrationsOptions,
  type IntegrationsOptions,
  type ResolvedIntegrationsOptions,
} from './integrations.options.js';
import { IntegrationsHealth } from './health/integrations.health.js';

/** Validated options with defaults (a bad option fails the boot here, naming its key). */
export function optionsProvider(): Provider {
  return {
    provide: INTEGRATIONS_OPTIONS,
    useFactory: (o: IntegrationsOptions) => resolveIntegrationsOptions(o),
    inject: [INTEGRATIONS_MODULE_OPTIONS],
  };
}

/** The clients, with metrics when MonitoringModule is there. */
export function clientsProvider(): Provider {
  return {
    provide: HttpClients,
    useFactory: (o: ResolvedIntegrationsOptions, metrics?: MetricsService) =>
      new HttpClients(o, metrics),
    inject: [INTEGRATIONS_OPTIONS, { token: MetricsService, optional: true }],
  };
}

/** Registers a health check per client when MonitoringModule is there. */
export function healthProvider(): Provider {
  return {
    provide: IntegrationsHealth,
    useFactory: (clients: HttpClients, registry?: HealthRegistry) =>
      new IntegrationsHealth(clients, registry),
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
