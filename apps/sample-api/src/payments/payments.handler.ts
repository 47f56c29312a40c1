import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { HttpClient, InjectHttpClient } from '@infrastructure/http-client';
import { EventHandler } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import { OrderPlaced, RecordPayment } from '../orders/index.js';

const Authorization = z.object({ id: z.string(), status: z.enum(['approved', 'declined']) });

/**
 * Payment authorization for each placed order, in its own consumer group. The order is accepted
 * at once as `placed` (payment pending); this handler asks the payment provider and records the
 * result on the order (`paid`, or `payment_declined`). When the provider is down, slow or its
 * circuit is open, the handler throws: the messaging lib retries with backoff and finally
 * dead-letters (replayable) — the API itself never answers 500 because of payments.
 * The `Idempotency-Key` is the order id, so retries never charge twice.
 *
 * `inbox: false`: the HTTP call must not run inside the inbox's database transaction (on SQLite
 * that would hold the single writer for as long as the provider takes). Redeliveries are safe
 * without it: the provider dedupes by idempotency key and `RecordPayment` ignores an order that
 * is no longer pending.
 */
@Injectable()
export class PaymentsHandler {
  private readonly log = getLogger('Payments');

  constructor(
    @InjectHttpClient('payments') private readonly payments: HttpClient,
    private readonly recordPayment: RecordPayment,
  ) {}

  @EventHandler(OrderPlaced, {
    group: 'sample-api.payments',
    inbox: false,
    retry: { attempts: 5, initialDelayMs: 200, maxDelayMs: 5000 },
  })
  async authorize(event: OrderPlaced): Promise<void> {
    const res = await this.payments.post('/authorizations', {
      body: { orderId: event.orderId, amountCents: event.totalCents, currency: 'EUR' },
      idempotencyKey: event.orderId,
      schema: Authorization,
    });
    await this.recordPayment.execute(event.orderId, res.body.status === 'approved', res.body.id);
    this.log.info({ orderId: event.orderId, result: res.body.status }, 'payment authorized');
  }
}
