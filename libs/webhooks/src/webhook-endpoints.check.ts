import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { WebhooksConfigError } from './errors.js';
import type { WebhookEndpointOptions } from './webhook-endpoint.decorator.js';
import { missingReceiver } from './webhook-signature.guard.js';
import { WEBHOOK_ENDPOINT, WEBHOOKS_OPTIONS } from './webhooks.constants.js';
import type { ResolvedWebhooksOptions } from './webhooks.options.js';

/**
 * Fails the boot when a `@WebhookEndpoint` names a receiver that is not configured (or relies on
 * a default secret that is not set), instead of answering 500 at the first webhook.
 */
@Injectable()
export class WebhookEndpointsCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof wrapper.metatype !== 'function') continue;
      const onClass = this.reflector.get<WebhookEndpointOptions | undefined>(
        WEBHOOK_ENDPOINT,
        wrapper.metatype,
      );
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const handler = instance[method];
        if (typeof handler !== 'function') continue;
        const endpoint =
          this.reflector.get<WebhookEndpointOptions | undefined>(WEBHOOK_ENDPOINT, handler) ??
          onClass;
        const name = endpoint?.receiver ?? 'default';
        if (endpoint && !this.options.receivers[name]) {
          throw new WebhooksConfigError(
            `${wrapper.metatype.name}.${method}: ${missingReceiver(name, this.options)}`,
          );
        }
      }
    }
  }
}
