import { Module } from '@nestjs/common';
import { OrderEventsHandler } from './order-events.handler.js';
import { OrderRepository } from './order.repository.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

@Module({
  controllers: [OrdersController],
  providers: [OrderRepository, OrdersService, OrderEventsHandler],
})
export class OrdersModule {}
