import { Injectable } from '@nestjs/common';
import { TypeOrmRepository, UnitOfWork } from '@infrastructure/persistence';
import {
  CustomerSummaries,
  type CustomerSummary,
} from '../application/ports/customer-summaries.js';
import { OrderSummaryEntity } from './order-summary.entity.js';

/**
 * Rows of `order_summaries` (on the current transaction: the projection's batch), and the
 * `CustomerSummaries` port the customer routes read through.
 */
@Injectable()
export class OrderSummaryRepository
  extends TypeOrmRepository<OrderSummaryEntity, string>
  implements CustomerSummaries
{
  constructor(uow: UnitOfWork) {
    super(OrderSummaryEntity, uow);
  }

  async find(customerId: string): Promise<CustomerSummary | undefined> {
    const row = await this.findById(customerId);
    return row ? { ...row, lastOrderAt: new Date(row.lastOrderAt) } : undefined;
  }

  async insert(row: OrderSummaryEntity): Promise<void> {
    await this.repo.insert(row);
  }

  /** Empties the table (a projection rebuild). */
  async clear(): Promise<void> {
    await this.repo.clear();
  }
}
