import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/index.js';
import { orderWebhooksProvider } from './order-webhooks.handler.js';

/**
 * Order webhooks (`ORDER_WEBHOOK_URL`): turns order events into signed webhooks. It imports
 * `OrdersModule`; orders know nothing of webhooks.
 */
@Module({
  imports: [OrdersModule],
  providers: [orderWebhooksProvider],
})
export class OrderWebhooksModule {}
