import { Injectable } from '@nestjs/common';
import { DomainEvent, DomainEventType, type DomainEventInit } from '@infrastructure/messaging';
import { UnitOfWork } from '@infrastructure/persistence';
import {
  AggregateRoot,
  EventSourcedRepository,
  EventSourcing,
  Projection,
  When,
  type Snapshottable,
} from '@infrastructure/event-sourcing';

@DomainEventType('es-test.AccountOpened')
export class AccountOpened extends DomainEvent {
  constructor(
    readonly accountId: string,
    readonly owner: string,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: accountId, aggregateType: 'Account', ...init });
  }
}

/** Schema 2 renamed `amount` to `cents`; stored version-1 events are upcast on read. */
@DomainEventType('es-test.MoneyDeposited', {
  schemaVersion: 2,
  upcasters: { 1: ({ amount, ...rest }) => ({ ...rest, cents: amount }) },
})
export class MoneyDeposited extends DomainEvent {
  constructor(
    readonly accountId: string,
    readonly cents: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: accountId, aggregateType: 'Account', ...init });
  }
}

@DomainEventType('es-test.MoneyWithdrawn')
export class MoneyWithdrawn extends DomainEvent {
  constructor(
    readonly accountId: string,
    readonly cents: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: accountId, aggregateType: 'Account', ...init });
  }
}

export class Account extends AggregateRoot implements Snapshottable {
  owner = '';
  balance = 0;
  movements = 0;

  constructor(readonly id: string) {
    super();
  }

  open(owner: string): void {
    if (this.version > 0) throw new Error('already open');
    this.apply(new AccountOpened(this.id, owner));
  }

  deposit(cents: number): void {
    this.apply(new MoneyDeposited(this.id, cents));
  }

  withdraw(cents: number): void {
    if (cents > this.balance) throw new RangeError('insufficient funds');
    this.apply(new MoneyWithdrawn(this.id, cents));
  }

  protected whenAccountOpened(e: AccountOpened): void {
    this.owner = e.owner;
  }
  protected whenMoneyDeposited(e: MoneyDeposited): void {
    this.balance += e.cents;
    this.movements++;
  }
  protected whenMoneyWithdrawn(e: MoneyWithdrawn): void {
    this.balance -= e.cents;
    this.movements++;
  }

  toSnapshot(): unknown {
    return { owner: this.owner, balance: this.balance, movements: this.movements };
  }
  restoreSnapshot(state: unknown): void {
    Object.assign(this, state as object);
  }
}

@Injectable()
export class Accounts extends EventSourcedRepository<Account> {
  constructor(es: EventSourcing) {
    super(es, { streamPrefix: 'account', create: (id) => new Account(id), snapshotEvery: 10 });
  }
}

/** Read model `es_balances(account_id, balance)`, written in the projection's transaction. */
@Projection('balances', { batchSize: 50 })
@Injectable()
export class BalancesProjection {
  /** Fail once when this event position is met (crash-safety test). */
  static failAt?: number;
  /** Fail every time this event position is met, until cleared (stall test). */
  static failAlwaysAt?: number;
  static applied = 0;

  constructor(private readonly uow: UnitOfWork) {}

  private async add(accountId: string, delta: number): Promise<void> {
    const m = this.uow.manager;
    const p = m.connection.options.type === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    const updated = (await m.query(
      `UPDATE es_balances SET balance = balance + ${p[0]} WHERE account_id = ${p[1]}`,
      [delta, accountId],
    )) as unknown;
    void updated;
    const [row] = (await m.query(
      `SELECT COUNT(*) AS n FROM es_balances WHERE account_id = ${p[0]}`,
      [accountId],
    )) as Array<{ n: number | string }>;
    if (Number(row!.n) === 0) {
      await m.query(`INSERT INTO es_balances (account_id, balance) VALUES (${p[0]}, ${p[1]})`, [
        accountId,
        delta,
      ]);
    }
  }

  @When(AccountOpened)
  async opened(e: AccountOpened): Promise<void> {
    BalancesProjection.applied++;
    await this.add(e.accountId, 0);
  }

  @When(MoneyDeposited)
  async deposited(e: MoneyDeposited, recorded: { position: number }): Promise<void> {
    if (BalancesProjection.failAlwaysAt === recorded.position) {
      throw new Error(`projection keeps failing at position ${recorded.position}`);
    }
    if (BalancesProjection.failAt === recorded.position) {
      BalancesProjection.failAt = undefined;
      throw new Error(`projection crashed at position ${recorded.position}`);
    }
    BalancesProjection.applied++;
    await this.add(e.accountId, e.cents);
  }

  @When(MoneyWithdrawn)
  async withdrawn(e: MoneyWithdrawn): Promise<void> {
    BalancesProjection.applied++;
    await this.add(e.accountId, -e.cents);
  }

  async reset(): Promise<void> {
    await this.uow.manager.query('DELETE FROM es_balances');
  }
}

/**
 * Positions of deposits, kept in memory, with policy `stop`: an event its handler keeps failing
 * on is retried forever, never skipped (stall test).
 */
@Projection('deposit-log', { batchSize: 50, onFailure: 'stop', maxAttempts: 1 })
@Injectable()
export class DepositLogProjection {
  /** Fail every time this event position is met, until cleared. */
  static failAlwaysAt?: number;
  readonly positions = new Set<number>();

  @When(MoneyDeposited)
  deposited(_: MoneyDeposited, recorded: { position: number }): void {
    if (DepositLogProjection.failAlwaysAt === recorded.position) {
      throw new Error(`deposit log keeps failing at position ${recorded.position}`);
    }
    this.positions.add(recorded.position);
  }

  reset(): void {
    this.positions.clear();
  }
}
