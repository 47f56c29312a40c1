import type { HealthRegistry } from '@infrastructure/monitoring';
import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { HttpClients } from '../http/http-clients.js';
import { registerHttpClientHealth } from './http-client.indicator.js';

/** Registers `http:<name>` for every client at init, unregisters at shutdown. @internal */
export class HttpClientsHealth implements OnModuleInit, OnApplicationShutdown {
  private readonly unregister: Array<() => void> = [];

  constructor(
    private readonly clients: HttpClients,
    private readonly registry: HealthRegistry | undefined,
  ) {}

  onModuleInit(): void {
    if (!this.registry) return;
    for (const client of this.clients.all()) {
      this.unregister.push(registerHttpClientHealth(this.registry, client));
    }
  }

  onApplicationShutdown(): void {
    for (const u of this.unregister.splice(0)) u();
  }
}
