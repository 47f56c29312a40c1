import { Injectable } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { MessagingRuntime } from '../messaging.runtime.js';

/**
 * A @nestjs/microservices `ClientProxy` over the messaging transport: `client.emit(pattern, data)`
 * publishes with the EventBus's guarantees (broker confirms; inside a unit of work through the
 * outbox, after commit). The message key (per-key order) is taken from `data.key` when present.
 * `client.send` (request/reply) is not carried by the messaging transports and errors at once.
 * `data` is not checked against any schema (a pattern is not a `@DomainEventType`): validate it in
 * the `@EventPattern` handler, or publish a `DomainEvent` whose type declares a schema.
 *
 * @example
 * constructor(private readonly client: MessagingClient) {}
 * await lastValueFrom(this.client.emit('billing.invoice-requested', { orderId }));
 */
@Injectable()
export class MessagingClient extends ClientProxy {
  constructor(private readonly runtime: MessagingRuntime) {
    super();
  }

  async connect(): Promise<void> {}

  async close(): Promise<void> {}

  unwrap<T>(): T {
    return this.runtime as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({
      err: new Error(
        'MessagingClient.send (request/reply) is not supported by the messaging transports; use emit',
      ),
      isDisposed: true,
    });
    return () => undefined;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const data = packet.data as { key?: unknown } | null;
    const key =
      data && typeof data === 'object' && typeof data.key === 'string' ? data.key : undefined;
    await this.runtime.publishData(
      this.normalizePattern(packet.pattern),
      packet.data,
      key ? { key } : {},
    );
    return undefined as T;
  }
}
