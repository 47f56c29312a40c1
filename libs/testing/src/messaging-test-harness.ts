import type { INestApplicationContext } from '@nestjs/common';
import {
  EventBus,
  MessagingRuntime,
  type DomainEvent,
  type DomainEventClass,
  type HandlingOutcome,
  type MessagingObservation,
} from '@infrastructure/messaging';

interface Waiter {
  test: (o: MessagingObservation) => boolean;
  resolve: (o: MessagingObservation) => void;
}

/**
 * Runs the real handler discovery and pipeline (memory transport) and lets a test await what
 * happened instead of sleeping: `await harness.published(OrderPlaced)`,
 * `await harness.consumed(OrderPlaced, { group: 'summaries' })`.
 */
export class MessagingTestHarness {
  private readonly seen: MessagingObservation[] = [];
  private waiters: Waiter[] = [];
  private readonly stop: () => void;

  constructor(app: INestApplicationContext) {
    const bus = app.get(EventBus);
    if (!(bus instanceof MessagingRuntime)) {
      throw new TypeError(
        'MessagingTestHarness needs the real MessagingModule (EventBus is overridden)',
      );
    }
    this.stop = bus.observe((o) => {
      this.seen.push(o);
      const ready = this.waiters.filter((w) => w.test(o));
      this.waiters = this.waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve(o);
    });
  }

  /** Resolves with the first published event of `type` matching `match`, already seen or to come. */
  async published<E extends DomainEvent>(
    type: DomainEventClass<E>,
    match: (event: E) => boolean = () => true,
  ): Promise<E> {
    const o = await this.when(
      (x) => x.kind === 'published' && x.event instanceof type && match(x.event as E),
    );
    return (o as unknown as { event: E }).event;
  }

  /**
   * Resolves when a handler finished an event of `type` with `outcome` (default `success`),
   * optionally in one consumer group.
   */
  async consumed<E extends DomainEvent>(
    type: DomainEventClass<E>,
    options: { group?: string; outcome?: HandlingOutcome; match?: (event: E) => boolean } = {},
  ): Promise<E | undefined> {
    const outcome = options.outcome ?? 'success';
    const o = await this.when(
      (x) =>
        x.kind === 'handled' &&
        x.outcome === outcome &&
        (options.group === undefined || x.group === options.group) &&
        (x.event === undefined ||
          (x.event instanceof type && (options.match?.(x.event as E) ?? true))),
    );
    return (o as unknown as { event?: E }).event;
  }

  /** Everything observed so far. */
  get observations(): readonly MessagingObservation[] {
    return this.seen;
  }

  /** Stops observing. */
  close(): void {
    this.stop();
  }

  private when(test: (o: MessagingObservation) => boolean): Promise<MessagingObservation> {
    const found = this.seen.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}
