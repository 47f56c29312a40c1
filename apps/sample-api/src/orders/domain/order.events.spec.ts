import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, EventValidationError, MessagingModule } from '@infrastructure/messaging';
import { MonitoringModule } from '@infrastructure/monitoring';
import { bootTestingModule, testMonitoringOptions } from '@infrastructure/testing';
import type { TestingModule } from '@nestjs/testing';
import { OrderPlaced } from './order.events.js';

describe('OrderPlaced payload schema', () => {
  let ref: TestingModule;
  beforeAll(async () => {
    ref = await bootTestingModule({
      imports: [MonitoringModule.forRoot(testMonitoringOptions()), MessagingModule.forRoot()],
    });
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('makes the real EventBus refuse an OrderPlaced with a negative total', async () => {
    const bus = ref.get(EventBus);
    const error = await bus
      .publish(new OrderPlaced('o-1', 'cust-1', -250, 'SKU-1', 1, -250))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).type).toBe('orders.OrderPlaced');
    expect((error as EventValidationError).issues.map((i) => i.path)).toEqual([
      'totalCents',
      'unitPriceCents',
    ]);
  });

  it('lets a well-formed OrderPlaced through', async () => {
    await expect(
      ref.get(EventBus).publish(new OrderPlaced('o-2', 'cust-1', 750, 'SKU-1', 3, 250)),
    ).resolves.toBeUndefined();
  });
});
