import { Injectable } from '@nestjs/common';
import { Column, Entity, PrimaryColumn, VersionColumn } from 'typeorm';
import { Transactional, TypeOrmRepository, UnitOfWork } from '@infrastructure/persistence';

@Entity('accounts')
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string;
  @Column({ type: 'varchar', length: 100 }) owner!: string;
  @Column({ type: 'int' }) balance!: number;
  @VersionColumn() version!: number;
}

export function account(id: string, balance = 100, owner = 'ann'): Account {
  return Object.assign(new Account(), { id, owner, balance });
}

@Injectable()
export class AccountRepository extends TypeOrmRepository<Account, string> {
  constructor(uow: UnitOfWork) {
    super(Account, uow);
  }
}

export class Boom extends Error {}

@Injectable()
export class AccountService {
  readonly committed: string[] = [];

  constructor(
    readonly accounts: AccountRepository,
    readonly uow: UnitOfWork,
  ) {}

  @Transactional()
  async open(id: string, balance: number, fail = false): Promise<void> {
    await this.accounts.save(account(id, balance));
    await this.uow.afterCommit(() => void this.committed.push(id));
    if (fail) throw new Boom('after the write');
  }

  /** Outer transaction calling a nested @Transactional method: one transaction. */
  @Transactional()
  async openTwo(a: string, b: string, failAtEnd = false): Promise<void> {
    await this.open(a, 1);
    await this.open(b, 2);
    if (failAtEnd) throw new Boom('rolls back both');
  }

  @Transactional({ propagation: 'requiresNew' })
  async audit(id: string): Promise<void> {
    await this.accounts.save(account(id, 0, 'audit'));
  }

  /** Writes, then an independent audit row, then fails: the audit row must survive. */
  @Transactional()
  async openWithAuditThenFail(id: string, auditId: string): Promise<void> {
    await this.accounts.save(account(id, 5));
    await this.audit(auditId);
    throw new Boom('outer fails');
  }
}
