import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { DomainEvent, DomainEventType, type DomainEventInit } from '@infrastructure/messaging';
import { AggregateRoot } from './aggregate-root.js';
import { EventSourcingError } from './errors.js';
import type { RecordedEvent } from './event-store.js';
import { When } from './projection.decorators.js';

@DomainEventType('aggregate-spec.Opened')
class Opened extends DomainEvent {
  constructor(
    readonly owner: string,
    init?: DomainEventInit,
  ) {
    super(init);
  }
}

@DomainEventType('aggregate-spec.Deposited')
class Deposited extends DomainEvent {
  constructor(
    readonly cents: number,
    init?: DomainEventInit,
  ) {
    super(init);
  }
}

/** A subclass of an event with a handler: it is applied by its superclass's handler. */
@DomainEventType('aggregate-spec.BonusDeposited')
class BonusDeposited extends Deposited {}

@DomainEventType('aggregate-spec.Closed')
class Closed extends DomainEvent {
  constructor(
    readonly reason: string,
    init?: DomainEventInit,
  ) {
    super(init);
  }
}

class Account extends AggregateRoot {
  owner = '';
  balance = 0;
  legacyCalls = 0;

  constructor(readonly id: string) {
    super();
  }

  open(owner: string): void {
    this.apply(new Opened(owner));
  }

  deposit(cents: number, bonus = false): void {
    this.apply(bonus ? new BonusDeposited(cents) : new Deposited(cents));
  }

  close(): void {
    this.apply(new Closed('moved away'));
  }

  @When(Opened)
  protected opened(e: Opened): void {
    this.owner = e.owner;
  }

  @When(Deposited)
  protected deposited(e: Deposited): void {
    this.balance += e.cents;
  }

  /** Named like the legacy convention, but `@When(Deposited)` above is the handler. */
  protected whenDeposited(): void {
    this.legacyCalls++;
  }
}

/** Inherits Account's `@When` handlers and adds one. */
class ClosableAccount extends Account {
  closed = false;

  @When(Closed)
  protected onClosed(): void {
    this.closed = true;
  }
}

/** An aggregate written before `@When`: routed by the `when<EventClass>` method name. */
class LegacyAccount extends AggregateRoot {
  balance = 0;
  constructor(readonly id: string) {
    super();
  }
  deposit(cents: number): void {
    this.apply(new Deposited(cents));
  }
  protected whenDeposited(e: Deposited): void {
    this.balance += e.cents;
  }
}

const recorded = (event: DomainEvent, version: number): RecordedEvent =>
  ({ event, version, position: version, streamId: 'account-1' }) as unknown as RecordedEvent;

describe('AggregateRoot', () => {
  it('applies an event through its @When(Event) method and records it', () => {
    const account = new Account('a-1');
    account.open('ada');
    account.deposit(250);
    expect(account.owner).toBe('ada');
    expect(account.balance).toBe(250);
    expect(account.version).toBe(2);
    expect(account.uncommittedEvents.map((e) => e.constructor)).toEqual([Opened, Deposited]);
  });

  it('rebuilds the state from history through the same @When methods, recording nothing', () => {
    const account = new Account('a-1');
    account.replay([recorded(new Opened('ada'), 1), recorded(new Deposited(100), 2)]);
    expect(account).toMatchObject({ owner: 'ada', balance: 100, version: 2 });
    expect(account.uncommittedEvents).toEqual([]);
  });

  it('prefers the @When handler to a method named when<EventClass>', () => {
    const account = new Account('a-1');
    account.deposit(10);
    expect(account.balance).toBe(10);
    expect(account.legacyCalls).toBe(0);
  });

  it("applies a subclass of an event with its superclass's handler", () => {
    const account = new Account('a-1');
    account.deposit(40, true);
    expect(account.balance).toBe(40);
    expect(account.uncommittedEvents[0]).toBeInstanceOf(BonusDeposited);
  });

  it("keeps a parent aggregate's @When handlers in a subclass", () => {
    const account = new ClosableAccount('a-2');
    account.open('grace');
    account.close();
    expect(account).toMatchObject({ owner: 'grace', closed: true, version: 2 });
  });

  it('still routes by the deprecated when<EventClass> name when no @When handler exists', () => {
    const account = new LegacyAccount('a-3');
    account.deposit(7);
    account.replay([recorded(new Deposited(3), 2)]);
    expect(account.balance).toBe(10);
    expect(account.version).toBe(2);
  });

  it('refuses an event without a handler, naming the aggregate and the event, recording nothing', () => {
    const account = new Account('a-1');
    let error: unknown;
    try {
      account.close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EventSourcingError);
    expect((error as Error).message).toBe(
      'Account has no handler for Closed: decorate the method that applies it with @When(Closed)',
    );
    expect(account.version).toBe(0);
    expect(account.uncommittedEvents).toEqual([]);
  });

  it('refuses an event without a handler on replay too', () => {
    const account = new LegacyAccount('a-3');
    expect(() => account.replay([recorded(new Opened('ada'), 1)])).toThrow(
      'LegacyAccount has no handler for Opened: decorate the method that applies it with @When(Opened)',
    );
  });
});
