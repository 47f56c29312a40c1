import type { Provider } from '@nestjs/common';
import type { ConfigOf } from '@infrastructure/configuration';
import { WebhookSender } from '@infrastructure/webhooks';
import { EventHandler } from '@infrastructure/messaging';
import { OrderCancelled, OrderPaymentRecorded, OrderPlaced } from '../orders/index.js';
import { orderWebhooksConfig } from '../config.js';

/**
 * Turns order events into webhooks to `ORDER_WEBHOOK_URL` in its own consumer group. Each send
 * joins the handler's inbox transaction, so it is an outbox row committed with the inbox row:
 * the webhook is requested exactly once per event, then delivered (signed, retried, dead-lettered
 * at worst) by the webhooks lib's dispatcher. The webhook id is the event id, stable across
 * redeliveries, so receivers can dedupe. Registered only when `ORDER_WEBHOOK_URL` is set
 * ({@link orderWebhooksProvider}): otherwise its consumer groups do not exist at all.
 */
export class OrderWebhooks {
  constructor(private readonly webhooks: WebhookSender) {}

  @EventHandler(OrderPlaced, { group: 'sample-api.order-webhooks' })
  async placed(e: OrderPlaced): Promise<void> {
    await this.send(e.id, 'order.placed', {
      orderId: e.orderId,
      customerId: e.customerId,
      totalCents: e.totalCents,
    });
  }

  @EventHandler(OrderPaymentRecorded, { group: 'sample-api.order-webhooks' })
  async paid(e: OrderPaymentRecorded): Promise<void> {
    await this.send(e.id, e.approved ? 'order.paid' : 'order.payment_declined', {
      orderId: e.orderId,
    });
  }

  @EventHandler(OrderCancelled, { group: 'sample-api.order-webhooks' })
  async cancelled(e: OrderCancelled): Promise<void> {
    await this.send(e.id, 'order.cancelled', { orderId: e.orderId, reason: e.reason });
  }

  private async send(eventId: string, type: string, data: object): Promise<void> {
    await this.webhooks.send('orders', type, data, { idempotencyKey: `evt_${eventId}` });
  }
}

/** `OrderWebhooks` when `ORDER_WEBHOOK_URL` is set, else nothing (null is not scanned for handlers). */
export const orderWebhooksProvider: Provider = {
  provide: OrderWebhooks,
  inject: [orderWebhooksConfig.KEY, WebhookSender],
  useFactory: (config: ConfigOf<typeof orderWebhooksConfig>, sender: WebhookSender) =>
    config.url ? new OrderWebhooks(sender) : null,
};
