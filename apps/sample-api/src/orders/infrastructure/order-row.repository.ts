import { Injectable } from '@nestjs/common';
import { TypeOrmRepository, UnitOfWork } from '@infrastructure/persistence';
import { OrderEntity } from './order.entity.js';

/** Rows of the `orders` table (the persistence lib's repository, on the current transaction). */
@Injectable()
export class OrderRowRepository extends TypeOrmRepository<OrderEntity, string> {
  constructor(uow: UnitOfWork) {
    super(OrderEntity, uow);
  }
}
