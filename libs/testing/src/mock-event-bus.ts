import {
  EventBus,
  type DomainEvent,
  type DomainEventClass,
  type PublishOptions,
  validateEvents,
} from '@infrastructure/messaging';

/**
 * An EventBus for unit tests: records what was published and can hand events to handlers you
 * register, synchronously. It checks events as the real one does before recording any of a
 * batch: an unregistered class throws `TypeError`, a payload its type's schema
 * (`@DomainEventType(type, { schema })`) rejects throws `EventValidationError`.
 *
 * @example
 * const bus = new MockEventBus();
 * const app = await createTestApp({ imports: [AppModule] }, { overrides: [{ provide: EventBus, useValue: bus }] });
 * ...
 * bus.expectPublished(OrderPlaced, (e) => e.orderId === id);
 */
export class MockEventBus extends EventBus {
  readonly published: DomainEvent[] = [];
  private readonly handlers = new Map<Function, Array<(event: DomainEvent) => unknown>>();

  async publish(
    events: DomainEvent | readonly DomainEvent[],
    _options?: PublishOptions,
  ): Promise<void> {
    const list = Array.isArray(events)
      ? (events as readonly DomainEvent[])
      : [events as DomainEvent];
    // As the real publish: the whole batch is checked before any of it is recorded.
    await validateEvents(list);
    for (const event of list) {
      this.published.push(event);
      for (const handler of this.handlers.get(event.constructor) ?? []) await handler(event);
    }
  }

  /** Calls `handler` for every event of `type` published from now on. */
  on<E extends DomainEvent>(type: DomainEventClass<E>, handler: (event: E) => unknown): this {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as (event: DomainEvent) => unknown);
    this.handlers.set(type, list);
    return this;
  }

  /** Published events of one class. */
  ofType<E extends DomainEvent>(type: DomainEventClass<E>): E[] {
    return this.published.filter((e): e is E => e instanceof type);
  }

  /** Throws unless an event of `type` (matching `matcher`) was published; returns it. */
  expectPublished<E extends DomainEvent>(
    type: DomainEventClass<E>,
    matcher: (event: E) => boolean = () => true,
  ): E {
    const found = this.ofType(type).find(matcher);
    if (!found) {
      const seen = this.published.map((e) => e.constructor.name).join(', ') || 'nothing';
      throw new Error(
        `expected a published ${type.name} matching the predicate; published: ${seen}`,
      );
    }
    return found;
  }

  /** Forgets what was published. */
  reset(): void {
    this.published.length = 0;
  }
}
