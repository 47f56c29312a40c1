import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { extendModule } from '@infrastructure/core';
import { DeadLetters } from './dead-letters.js';
import { EventBus } from './event-bus.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  MESSAGING_MODULE_OPTIONS,
  OPTIONS_TYPE,
} from './messaging.module-definition.js';
import {
  resolveMessagingOptions,
  type MessagingOptions,
  type ResolvedMessagingOptions,
} from './messaging.options.js';
import { MESSAGING_OPTIONS, MESSAGING_TRANSPORT, MessagingRuntime } from './messaging.runtime.js';
import { MessagingClient } from './nest/messaging.client.js';
import { MessagingServer } from './nest/messaging.server.js';
import { createTransport } from './transports/create-transport.js';

function withMessaging(module: DynamicModule): DynamicModule {
  const providers: Provider[] = [
    {
      provide: MESSAGING_OPTIONS,
      useFactory: (o: MessagingOptions) => resolveMessagingOptions(o),
      inject: [MESSAGING_MODULE_OPTIONS],
    },
    {
      provide: MESSAGING_TRANSPORT,
      useFactory: (o: ResolvedMessagingOptions) => createTransport(o),
      inject: [MESSAGING_OPTIONS],
    },
    DeadLetters,
    MessagingRuntime,
    { provide: EventBus, useExisting: MessagingRuntime },
    MessagingServer,
    MessagingClient,
  ];
  return extendModule(module, {
    imports: [DiscoveryModule],
    providers,
    exports: [
      EventBus,
      DeadLetters,
      MessagingRuntime,
      MessagingServer,
      MessagingClient,
      MESSAGING_OPTIONS,
      MESSAGING_TRANSPORT,
    ],
  });
}

/**
 * The EventBus port with `@EventHandler` discovery, consumer groups, retries with backoff, dead
 * letters, context propagation and metrics. Inside a unit of work (persistence lib) events leave
 * after commit.
 */
@Module({})
export class MessagingModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withMessaging(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withMessaging(super.forRootAsync(options));
  }
}
