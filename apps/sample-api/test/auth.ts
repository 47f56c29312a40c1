import { JwtManager } from '@infrastructure/security';
import { MessagingTestHarness, type TestApp } from '@infrastructure/testing';
import { OrderPlaced } from '../src/orders/index.js';

/** An `Authorization` header value for the app under test, signed by its own keyring. */
export async function bearer(
  t: TestApp,
  scopes: readonly string[] = ['orders:read', 'orders:write'],
  sub = 'e2e-user',
): Promise<string> {
  return `Bearer ${await t.app.get(JwtManager).createToken({ sub, scopes })}`;
}

/**
 * Watches the payment handler (its own consumer group) from now on: `recorded(orderId)` resolves
 * once the provider's answer for that order is recorded (orders change status asynchronously
 * after they are placed). Create it right after the app, before placing orders.
 */
export function paymentWatcher(t: TestApp): {
  recorded: (orderId: string) => Promise<unknown>;
  close: () => void;
} {
  const harness = new MessagingTestHarness(t.app);
  return {
    recorded: (orderId) =>
      harness.consumed(OrderPlaced, {
        group: 'sample-api.payments',
        match: (e) => e.orderId === orderId,
      }),
    close: () => harness.close(),
  };
}
