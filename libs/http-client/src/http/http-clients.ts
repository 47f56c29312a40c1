import type { MetricsService } from '@infrastructure/monitoring';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { ResolvedHttpClientModuleOptions } from '../http-client.options.js';
import { HttpClientMetrics } from '../metrics/http-client.metrics.js';
import { HttpClient } from './http-client.js';

/** Every configured HTTP client by name; closes their connection pools at shutdown. */
export class HttpClients implements OnApplicationShutdown {
  private readonly clients = new Map<string, HttpClient>();

  constructor(options: ResolvedHttpClientModuleOptions, metrics?: MetricsService) {
    for (const [name, o] of Object.entries(options.clients)) {
      this.clients.set(
        name,
        new HttpClient(o, metrics ? new HttpClientMetrics(name, metrics) : undefined),
      );
    }
  }

  /** The client named `name`; throws naming the configured ones when there is none. */
  get(name: string): HttpClient {
    const client = this.clients.get(name);
    if (!client) {
      throw new Error(
        `HttpClientModule: no HTTP client "${name}" (configured: ${[...this.clients.keys()].join(', ') || 'none'}); add it under options.clients`,
      );
    }
    return client;
  }

  /** Names of the configured clients. */
  names(): string[] {
    return [...this.clients.keys()];
  }

  /** All clients. */
  all(): HttpClient[] {
    return [...this.clients.values()];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all().map((c) => c.close()));
  }
}
