import { AsyncLocalStorage } from 'node:async_hooks';

import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportMessage,
} from '../transport.js';

const RESOLVED = Promise.resolve();

/**
 * Runs a function in the async context this module was loaded in (at boot: no request's, no
 * handler's). Each delivery starts there, as a broker's would from its socket: nothing of the
 * publisher's `AsyncLocalStorage` stores, or of what an earlier handler entered, reaches a
 * handler.
 */
const inRoot = AsyncLocalStorage.snapshot();

/**
 * One delivery as the pipeline gets it: the published envelope when there is one, and `body`
 * read from the message only when something asks (a dead letter, a log), so an event published
 * through the bus is never turned into text on its way to in-process handlers.
 */
class MemoryDelivery implements TransportMessage {
  constructor(
    private readonly message: OutgoingMessage,
    readonly headers: Record<string, string>,
    readonly attempt: number,
  ) {}

  get body(): string {
    return this.message.body;
  }

  get envelope(): OutgoingMessage['envelope'] {
    return this.message.envelope;
  }
}

interface Delivery {
  message: OutgoingMessage;
  attempt: number;
}

interface Subscription {
  handler: DeliveryHandler;
  prefetch: number;
  active: number;
  /** FIFO of deliveries waiting for a prefetch slot (`head` is the next one). */
  queue: Delivery[];
  head: number;
  scheduled: boolean;
}

/**
 * In-process transport with the same semantics as the broker ones: asynchronous delivery (never
 * inside the publisher's call), each consumer group once, in publish order, bounded concurrency
 * (prefetch), retries after the pipeline's delay to one group only, dead letters kept in memory.
 * The embedded default and the transport for tests. Nothing survives a restart: use a broker (and
 * the outbox) in production.
 */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly inProcess = true;
  private readonly groups = new Map<string, Map<string, Subscription>>();
  /** The subscriptions of each type as an array (publish walks it without an iterator). */
  private readonly byType = new Map<string, Subscription[]>();
  /** Deliveries started and not settled yet; `close` waits for them. */
  private running = 0;
  private drained?: () => void;
  private draining?: Promise<void>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly letters: DeadLetterRecord[] = [];
  private nextLetterId = 1;
  private closed = false;

  async connect(): Promise<void> {}

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('MemoryTransport is closed'));
    for (const message of messages) {
      const subs = this.byType.get(message.type);
      if (subs)
        for (let i = 0; i < subs.length; i++) this.enqueue(subs[i]!, { message, attempt: 1 });
    }
    return RESOLVED;
  }

  async subscribe(
    type: string,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<void> {
    let byGroup = this.groups.get(type);
    if (!byGroup) this.groups.set(type, (byGroup = new Map()));
    byGroup.set(group, {
      handler,
      prefetch: Math.max(1, options.prefetch),
      active: 0,
      queue: [],
      head: 0,
      scheduled: false,
    });
    this.byType.set(type, [...byGroup.values()]);
  }

  async deadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void> {
    this.letters.push({ ...letter, id: String(this.nextLetterId++) });
  }

  async listDeadLetters(limit: number): Promise<DeadLetterRecord[]> {
    return this.letters.slice(0, limit);
  }

  async removeDeadLetters(letters: readonly DeadLetterRecord[]): Promise<void> {
    const ids = new Set(letters.map((l) => l.id));
    for (let i = this.letters.length - 1; i >= 0; i--) {
      if (ids.has(this.letters[i]!.id)) this.letters.splice(i, 1);
    }
  }

  async redeliver(group: string, message: OutgoingMessage): Promise<void> {
    const sub = this.groups.get(message.type)?.get(group);
    if (!sub) throw new Error(`MemoryTransport: no group "${group}" on ${message.type}`);
    this.enqueue(sub, { message, attempt: 1 });
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('MemoryTransport is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.running > 0) {
      this.draining ??= new Promise<void>((resolve) => (this.drained = resolve));
      await this.draining;
    }
  }

  private enqueue(sub: Subscription, delivery: Delivery): void {
    sub.queue.push(delivery);
    if (sub.scheduled) return;
    // Deliver on a later turn of the event loop, like a broker would, in one pass per turn.
    sub.scheduled = true;
    setImmediate(() => {
      sub.scheduled = false;
      this.pump(sub);
    });
  }

  private pump(sub: Subscription): void {
    while (!this.closed && sub.active < sub.prefetch && sub.head < sub.queue.length) {
      const delivery = sub.queue[sub.head]!;
      sub.queue[sub.head++] = undefined as unknown as Delivery;
      if (sub.head > 1024 && sub.head * 2 > sub.queue.length) {
        sub.queue = sub.queue.slice(sub.head);
        sub.head = 0;
      }
      // Each delivery from the root context: what one handler enters (`enterWith`) stays its own.
      inRoot(this.startOne, sub, delivery);
    }
  }

  private readonly startOne = (sub: Subscription, delivery: Delivery): void =>
    this.start(sub, delivery);

  private start(sub: Subscription, { message, attempt }: Delivery): void {
    sub.active++;
    // Each delivery gets its own copy of the headers; the envelope (the pipeline decodes a copy)
    // or the body text (immutable) is shared.
    const copy = new MemoryDelivery(message, { ...message.headers }, attempt);
    // One settle callback per delivery (no `finally` promise): the bookkeeping, then the next one.
    const settle = (result: { outcome?: unknown; delayMs?: number } | undefined) => {
      sub.active--;
      if (--this.running === 0 && this.drained) this.drained();
      if (result?.outcome === 'retry') this.retry(sub, message, attempt + 1, result.delayMs ?? 0);
      this.pump(sub);
    };
    this.running++;
    // The pipeline never rejects; if a bug there does, the delivery settles as no decision (it is
    // dropped) rather than looping forever.
    sub.handler(copy).then(settle, settle);
  }

  private retry(sub: Subscription, message: OutgoingMessage, attempt: number, delayMs: number) {
    if (this.closed) return;
    if (delayMs <= 0) {
      this.enqueue(sub, { message, attempt });
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) this.enqueue(sub, { message, attempt });
    }, delayMs);
    this.timers.add(timer);
  }
}
