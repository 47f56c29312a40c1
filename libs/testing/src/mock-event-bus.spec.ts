import { describe, expect, it } from 'vitest';
import {
  DomainEvent,
  DomainEventType,
  EventValidationError,
  type DomainEventInit,
  type EventSchema,
} from '@infrastructure/messaging';
import { MockEventBus } from './mock-event-bus.js';

/** A hand-made Standard Schema: the total is a non-negative integer. */
const totalSchema: EventSchema = {
  '~standard': {
    version: 1,
    vendor: 'hand-made',
    validate: (value) => {
      const total = (value as { totalCents?: unknown }).totalCents;
      return typeof total === 'number' && Number.isInteger(total) && total >= 0
        ? { value }
        : { issues: [{ message: 'a non-negative integer', path: ['totalCents'] }] };
    },
  },
};

@DomainEventType('mock-bus.InvoiceIssued', { schema: totalSchema })
class InvoiceIssued extends DomainEvent {
  constructor(
    readonly invoiceId: string,
    readonly totalCents: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: invoiceId, aggregateType: 'Invoice', ...init });
  }
}

class NotRegistered extends DomainEvent {
  constructor(readonly note = 'no @DomainEventType') {
    super();
  }
}

describe('MockEventBus', () => {
  it('checks payload schemas like the real EventBus: an invalid event throws EventValidationError', async () => {
    const bus = new MockEventBus();
    const error = await bus.publish(new InvoiceIssued('i-1', -5)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).issues).toEqual([
      { path: 'totalCents', message: 'a non-negative integer' },
    ]);
    expect(bus.published).toEqual([]);
  });

  it('publishes nothing of a batch when one of its events is invalid', async () => {
    const bus = new MockEventBus();
    const seen: string[] = [];
    bus.on(InvoiceIssued, (e) => void seen.push(e.invoiceId));
    await expect(
      bus.publish([new InvoiceIssued('i-2', 10), new InvoiceIssued('i-3', 1.5)]),
    ).rejects.toThrow(/mock-bus\.InvoiceIssued: invalid payload: totalCents/);
    expect(bus.published).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('rejects an event class without @DomainEventType, as the real EventBus does', async () => {
    const bus = new MockEventBus();
    await expect(bus.publish(new NotRegistered())).rejects.toThrow(
      /NotRegistered is not registered/,
    );
  });

  it('records and dispatches valid events', async () => {
    const bus = new MockEventBus();
    const seen: number[] = [];
    bus.on(InvoiceIssued, (e) => void seen.push(e.totalCents));
    await bus.publish(new InvoiceIssued('i-4', 0));
    expect(seen).toEqual([0]);
    expect(bus.expectPublished(InvoiceIssued).invoiceId).toBe('i-4');
  });
});
