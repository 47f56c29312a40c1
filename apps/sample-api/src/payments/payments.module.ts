import { Module, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigOf } from '@infrastructure/configuration';
import { getLogger } from '@infrastructure/monitoring';
import { paymentsConfig } from '../config.js';
import { OrdersModule } from '../orders/index.js';
import { FakePaymentProvider } from './fake-payment-provider.js';
import { PaymentsHandler } from './payments.handler.js';

export const PAYMENTS_BASE_URL = 'PAYMENTS:BASE_URL';

/** Starts the fake provider when `PAYMENTS_URL` is unset (embedded default), and stops it. */
class FakePaymentsLifecycle implements OnApplicationShutdown {
  constructor(readonly fake?: FakePaymentProvider) {}
  async onApplicationShutdown(): Promise<void> {
    await this.fake?.stop();
  }
}

/**
 * Where the `payments` HTTP client points: `PAYMENTS_URL`, or an in-process fake provider on an
 * ephemeral port (a real HTTP server, so pooling, breaker, metrics and health work the same).
 */
@Module({
  providers: [
    {
      provide: FakePaymentsLifecycle,
      useFactory: async (config: ConfigOf<typeof paymentsConfig>) => {
        if (config.url) return new FakePaymentsLifecycle();
        getLogger('Payments').info(
          'PAYMENTS_URL unset: using the in-process fake payment provider',
        );
        return new FakePaymentsLifecycle(await new FakePaymentProvider().start());
      },
      inject: [paymentsConfig.KEY],
    },
    {
      provide: PAYMENTS_BASE_URL,
      useFactory: (config: ConfigOf<typeof paymentsConfig>, lifecycle: FakePaymentsLifecycle) =>
        config.url ?? lifecycle.fake!.url,
      inject: [paymentsConfig.KEY, FakePaymentsLifecycle],
    },
  ],
  exports: [PAYMENTS_BASE_URL, FakePaymentsLifecycle],
})
export class PaymentsEndpointModule {}

export { FakePaymentsLifecycle };

/**
 * Payments for orders: asks the provider for each placed order and records the answer through
 * the orders module's `RecordPayment` use case. It imports `OrdersModule`; orders know nothing of
 * payments.
 */
@Module({
  imports: [OrdersModule],
  providers: [PaymentsHandler],
})
export class PaymentsModule {}
