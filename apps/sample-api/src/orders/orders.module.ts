import { Module } from '@nestjs/common';
import { CustomersController } from './customers.controller.js';
import { OrderEventsHandler } from './order-events.handler.js';
import { OrderSummaryProjection } from './order-summary.projection.js';
import { OrderRepository } from './order.repository.js';
import { OrderStreams } from './order.streams.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';
import { PaymentsHandler } from '../payments/payments.handler.js';
import { orderWebhooksProvider } from '../webhooks/order-webhooks.handler.js';

@Module({
  controllers: [OrdersController, CustomersController],
  providers: [
    OrderRepository,
    OrderStreams,
    OrdersService,
    OrderEventsHandler,
    OrderSummaryProjection,
    PaymentsHandler,
    orderWebhooksProvider,
  ],
})
export class OrdersModule {}
