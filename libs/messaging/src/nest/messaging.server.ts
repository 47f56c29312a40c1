import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { replaceMethod } from '@infrastructure/core';
import type { RetryPolicy } from '../event-handler.decorator.js';

/** Metadata key @EventPattern sets on the method (`microservices:pattern`). */
const EVENT_PATTERN = 'microservices:pattern';
const WRAPPED = Symbol('messaging.wrappedEventPattern');
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { MESSAGING_OPTIONS, MessagingRuntime } from '../messaging.runtime.js';

/** Extras of `@EventPattern(pattern, { group, retry, concurrency })` understood by the server. */
export interface EventPatternExtras {
  /** Consumer group. @default `<serviceName>.<pattern>` */
  group?: string;
  retry?: RetryPolicy;
  concurrency?: number;
}

/** Context of an `@EventPattern` handler: `[pattern, group, attempt]`. */
export class MessagingContext extends BaseRpcContext<[string, string]> {
  /** The pattern (event type) the message was published on. */
  getPattern(): string {
    return this.args[0];
  }
  /** The consumer group handling it. */
  getGroup(): string {
    return this.args[1];
  }
}

/**
 * A @nestjs/microservices custom transport strategy over the configured messaging transport:
 * `@EventPattern` handlers of your controllers get the same pipeline as `@EventHandler` methods
 * (ack after success, retries with backoff, dead letters, poison handling, inbox, context restore,
 * metrics). Connect it as a hybrid app:
 *
 * @example
 * app.connectMicroservice({ strategy: app.get(MessagingServer) });
 * await app.startAllMicroservices();
 *
 * Request/reply (`@MessagePattern`) is not carried by the messaging transports: such handlers are
 * reported at boot and not subscribed.
 */
@Injectable()
export class MessagingServer extends Server implements CustomTransportStrategy {
  /** Handler errors reach the pipeline (retry, then dead letter) instead of being swallowed. */
  override readonly propagatesEventHandlerErrors = true;
  /** The handler's own error: Nest's RPC exception filter replaces it with "Internal server error". */
  private static readonly failure = new AsyncLocalStorage<{ error?: unknown }>();

  constructor(
    private readonly runtime: MessagingRuntime,
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {
    super();
    this.wrapEventPatterns();
  }

  /**
   * Wraps each `@EventPattern` method of every controller class (on the prototype, before Nest
   * builds the microservice handlers, which happens before any init hook) so the error it throws
   * is kept for the dead-letter headers (`x-exception-message`, `x-exception-type`). The wrapper
   * keeps the method's metadata and does nothing outside this server's deliveries.
   */
  private wrapEventPatterns(): void {
    const failure = MessagingServer.failure;
    for (const wrapper of this.discovery.getControllers()) {
      const proto = (wrapper.metatype as { prototype?: object } | undefined)?.prototype;
      if (!proto) continue;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const descriptor = Object.getOwnPropertyDescriptor(proto, method);
        const original = descriptor?.value as ((...args: unknown[]) => unknown) | undefined;
        if (
          !descriptor ||
          typeof original !== 'function' ||
          !Reflect.getMetadata(EVENT_PATTERN, original) ||
          (original as { [WRAPPED]?: boolean })[WRAPPED]
        ) {
          continue;
        }
        const wrapped = async function (this: unknown, ...args: unknown[]) {
          try {
            return await original.apply(this, args);
          } catch (error) {
            const slot = failure.getStore();
            if (slot) slot.error = error;
            throw error;
          }
        };
        Object.defineProperty(proto, method, replaceMethod(descriptor, wrapped));
        (wrapped as { [WRAPPED]?: boolean })[WRAPPED] = true;
      }
    }
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [pattern, handler] of this.messageHandlers) {
        if (!handler.isEventHandler) {
          this.logger.warn?.(
            `@MessagePattern('${pattern}') is not subscribed: the messaging transports carry events (@EventPattern), not request/reply`,
          );
          continue;
        }
        const extras = (handler.extras ?? {}) as EventPatternExtras;
        const group = extras.group ?? `${this.options.serviceName}.${pattern}`;
        await this.runtime.consume(
          pattern,
          group,
          {
            ...(extras.retry ? { retry: extras.retry } : {}),
            ...(extras.concurrency ? { concurrency: extras.concurrency } : {}),
          },
          (body) => body,
          (data) => {
            const slot: { error?: unknown } = {};
            return MessagingServer.failure.run(slot, async () => {
              try {
                const result = await handler(data, new MessagingContext([pattern, group]));
                if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
              } catch (error) {
                throw slot.error ?? error;
              }
            });
          },
        );
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stopping and draining belong to the messaging runtime (shutdown hooks). */
  close(): void {}

  on(): void {
    throw new Error('MessagingServer does not emit transport events; see the messaging metrics');
  }

  unwrap<T>(): T {
    return this.runtime as T;
  }
}
