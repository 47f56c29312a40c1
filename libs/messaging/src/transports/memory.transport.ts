import type { EventEnvelope } from '../event-registry.js';
import type { DeliveryHandler, Transport, TransportMessage } from './transport.js';

/**
 * In-process transport with the same semantics as the broker ones: asynchronous delivery, each
 * consumer group once, retries with the pipeline's delay, dead letters decided by the pipeline.
 * The embedded default and the transport for tests.
 */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private readonly groups = new Map<string, Map<string, DeliveryHandler>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  async publish(
    messages: Array<{ envelope: EventEnvelope; headers: Record<string, string> }>,
  ): Promise<void> {
    for (const { envelope, headers } of messages) this.dispatch(envelope.type, envelope, headers);
  }

  async publishRaw(type: string, body: unknown, headers: Record<string, string>): Promise<void> {
    this.dispatch(type, body, headers);
  }

  subscribe(type: string, group: string, handler: DeliveryHandler): void {
    let byGroup = this.groups.get(type);
    if (!byGroup) this.groups.set(type, (byGroup = new Map()));
    byGroup.set(group, handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled(this.inFlight);
  }

  private dispatch(type: string, body: unknown, headers: Record<string, string>): void {
    if (this.closed) throw new Error('MemoryTransport is closed');
    for (const handler of this.groups.get(type)?.values() ?? []) {
      // Each group gets its own copy, delivered asynchronously like a broker would.
      this.deliver(
        handler,
        { body: structuredClone(body), headers: { ...headers }, attempt: 1 },
        0,
      );
    }
  }

  private deliver(handler: DeliveryHandler, message: TransportMessage, delayMs: number): void {
    const run = () => {
      if (this.closed) return;
      const work = handler(message).then(
        ({ outcome, delayMs: next }) => {
          if (outcome === 'retry')
            this.deliver(handler, { ...message, attempt: message.attempt + 1 }, next ?? 0);
        },
        () => undefined, // the pipeline never throws; a bug there must not kill the process
      );
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    };
    if (delayMs <= 0) {
      setImmediate(run);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }
}
