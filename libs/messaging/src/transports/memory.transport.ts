import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportMessage,
} from './transport.js';

interface Subscription {
  handler: DeliveryHandler;
  prefetch: number;
  active: number;
  /** Deliveries waiting for a prefetch slot. */
  waiting: Array<() => void>;
  /** Tail of each key's delivery chain: one key's messages are handled in order. */
  tails: Map<string, Promise<void>>;
}

/**
 * In-process transport with the same semantics as the broker ones: asynchronous delivery, each
 * consumer group once, per-key order, bounded concurrency (prefetch), retries after the
 * pipeline's delay to one group only, dead letters kept in memory. The embedded default and the
 * transport for tests. Nothing survives a restart: use a broker (and the outbox) in production.
 */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private readonly groups = new Map<string, Map<string, Subscription>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly letters: DeadLetterRecord[] = [];
  private nextLetterId = 1;
  private closed = false;

  async connect(): Promise<void> {}

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error('MemoryTransport is closed');
    for (const message of messages) {
      for (const sub of this.groups.get(message.type)?.values() ?? []) {
        this.enqueue(sub, message, 1, 0);
      }
    }
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
      waiting: [],
      tails: new Map(),
    });
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
    this.enqueue(sub, message, 1, 0);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('MemoryTransport is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
  }

  private enqueue(sub: Subscription, message: OutgoingMessage, attempt: number, delayMs: number) {
    // Each group gets its own copy, delivered asynchronously like a broker would.
    const delivery: TransportMessage = {
      body: message.body,
      headers: { ...message.headers },
      attempt,
    };
    const start = () => {
      if (this.closed) return;
      const key = message.key ?? '';
      const previous =
        message.key === undefined ? Promise.resolve() : (sub.tails.get(key) ?? Promise.resolve());
      const work = previous.then(() => this.run(sub, message, delivery));
      if (message.key !== undefined) {
        sub.tails.set(key, work);
        void work.finally(() => sub.tails.get(key) === work && sub.tails.delete(key));
      }
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    };
    if (delayMs <= 0) {
      start();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      start();
    }, delayMs);
    this.timers.add(timer);
  }

  private async run(sub: Subscription, message: OutgoingMessage, delivery: TransportMessage) {
    if (sub.active >= sub.prefetch) await new Promise<void>((r) => sub.waiting.push(r));
    sub.active++;
    try {
      await new Promise<void>((r) => setImmediate(r));
      if (this.closed) return;
      const { outcome, delayMs } = await sub.handler(delivery).catch(() => ({
        outcome: 'success' as const, // the pipeline never throws; a bug there must not loop forever
        delayMs: 0,
      }));
      if (outcome === 'retry') this.enqueue(sub, message, delivery.attempt + 1, delayMs ?? 0);
    } finally {
      sub.active--;
      sub.waiting.shift()?.();
    }
  }
}
