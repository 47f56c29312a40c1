import { Module } from '@nestjs/common';
import { UnitOfWork } from '@infrastructure/persistence';
import { CancelOrder } from './application/cancel-order.use-case.js';
import { PlaceOrder } from './application/place-order.use-case.js';
import { Clock } from './application/ports/clock.js';
import { CustomerSummaries } from './application/ports/customer-summaries.js';
import { OrderRepository } from './application/ports/order.repository.js';
import { OrderViews } from './application/ports/order-views.js';
import { TransactionRunner } from './application/ports/transaction-runner.js';
import { RecordPayment } from './application/record-payment.use-case.js';
import { CustomersController } from './http/customers.controller.js';
import { OrdersController } from './http/orders.controller.js';
import { EventSourcedOrderRepository } from './infrastructure/event-sourced-order.repository.js';
import { OrderEventsHandler } from './infrastructure/order-events.handler.js';
import { OrderRowRepository } from './infrastructure/order-row.repository.js';
import { OrderSummaryProjection } from './infrastructure/order-summary.projection.js';
import { OrderSummaryRepository } from './infrastructure/order-summary.repository.js';
import { OrderStreams } from './infrastructure/order.streams.js';
import { OrdersTableProjection } from './infrastructure/orders-table.projection.js';
import { SystemClock } from './infrastructure/system-clock.js';
import { TypeOrmOrderViews } from './infrastructure/typeorm-order-views.js';

/**
 * Orders: the use cases on their ports, and which adapter backs each port. Modules that react to
 * orders (payments, webhooks) import this one — never the other way round — and use what it
 * exports: the `RecordPayment` use case.
 */
@Module({
  controllers: [OrdersController, CustomersController],
  providers: [
    PlaceOrder,
    CancelOrder,
    RecordPayment,
    { provide: OrderRepository, useClass: EventSourcedOrderRepository },
    { provide: OrderViews, useClass: TypeOrmOrderViews },
    { provide: CustomerSummaries, useExisting: OrderSummaryRepository },
    { provide: Clock, useClass: SystemClock },
    { provide: TransactionRunner, useExisting: UnitOfWork },
    OrderStreams,
    OrderRowRepository,
    OrdersTableProjection,
    OrderSummaryRepository,
    OrderSummaryProjection,
    OrderEventsHandler,
  ],
  exports: [RecordPayment],
})
export class OrdersModule {}
