import { Injectable } from '@nestjs/common';
import { TypeOrmRepository, UnitOfWork } from '@infrastructure/persistence';
import { OrderEntity } from './order.entity.js';

/** Orders, through the repository port. */
@Injectable()
export class OrderRepository extends TypeOrmRepository<OrderEntity, string> {
  constructor(uow: UnitOfWork) {
    super(OrderEntity, uow);
  }
}
