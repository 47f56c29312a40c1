import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeadLetters,
  DomainEvent,
  DomainEventType,
  EventBus,
  EventHandler,
  MESSAGING_TRANSPORT,
  MessagingModule,
  type DomainEventInit,
  type Transport,
} from '@infrastructure/messaging';
import {
  MetricsService,
  MonitoringModule,
  RequestContext,
  getLogger,
} from '@infrastructure/monitoring';
import { PersistenceModule, UnitOfWork } from '@infrastructure/persistence';
import { MessagingTestHarness, MockEventBus, testMonitoringOptions } from '@infrastructure/testing';
import { Recorder } from './contract/transport-contract.js';

@DomainEventType('test.OrderPlaced', {
  schemaVersion: 2,
  upcasters: { 1: (p) => ({ ...p, currency: 'EUR' }) },
})
class OrderPlaced extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly totalCents: number,
    readonly currency = 'EUR',
    init?: DomainEventInit,
  ) {
    super({ aggregateId: orderId, aggregateType: 'Order', ...init });
  }
}

const projected = new Recorder<{
  event: OrderPlaced;
  correlationId?: string;
  causationId?: string;
}>();
const audited = new Recorder<string>();
const flakyCalls = new Recorder<string>();
const busyCalls = new Recorder<number>();
/** How many more times the flaky handler fails, per order id. */
const failFor = new Map<string, number>();

@Injectable()
class Projections {
  constructor(private readonly context: RequestContext) {}

  @EventHandler(OrderPlaced, { group: 'summaries' })
  async project(event: OrderPlaced): Promise<void> {
    const ctx = this.context.get();
    getLogger('Projections').info({ orderId: event.orderId }, 'projected');
    projected.push({ event, correlationId: ctx.correlationId, causationId: ctx.causationId });
  }

  @EventHandler(OrderPlaced, { group: 'audit' })
  audit(event: OrderPlaced): void {
    audited.push(event.orderId);
  }

  @EventHandler(OrderPlaced, {
    group: 'flaky',
    retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
  })
  flaky(event: OrderPlaced): void {
    flakyCalls.push(event.orderId);
    const left = failFor.get(event.orderId) ?? 0;
    if (left > 0) {
      failFor.set(event.orderId, left - 1);
      throw new TypeError(`downstream refused order ${event.orderId}`);
    }
  }
}

@Injectable()
class BusyDownstream {
  /** Fails once with a Retry-After-style hint, then succeeds. */
  @EventHandler(OrderPlaced, {
    group: 'busy',
    retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 1_000 },
  })
  call(event: OrderPlaced): void {
    if (event.orderId !== 'o-busy') return;
    busyCalls.push(performance.now());
    if (busyCalls.items.length === 1) {
      throw Object.assign(new Error('429 Too Many Requests'), { retryAfterMs: 300 });
    }
  }
}

@Module({ providers: [Projections, BusyDownstream] })
class ProjectionsModule {}

describe('MessagingModule on the memory transport', () => {
  let ref: TestingModule;
  let bus: EventBus;
  let deadLetters: DeadLetters;

  beforeAll(async () => {
    ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
        MessagingModule.forRoot({ serviceName: 'orders-test' }),
        ProjectionsModule,
      ],
    }).compile();
    await ref.init();
    bus = ref.get(EventBus);
    deadLetters = ref.get(DeadLetters);
  });
  afterAll(() => ref?.close());

  it('delivers each event once to every consumer group, as an instance of its class', async () => {
    await bus.publish(new OrderPlaced('o-1', 500));
    await Promise.all([projected.until(1), audited.until(1), flakyCalls.until(1)]);
    expect(projected.items[0]!.event).toBeInstanceOf(OrderPlaced);
    expect(projected.items[0]!.event).toMatchObject({
      orderId: 'o-1',
      totalCents: 500,
      aggregateType: 'Order',
    });
    expect(projected.items[0]!.event.occurredAt).toBeInstanceOf(Date);
    expect(audited.items).toEqual(['o-1']);
  });

  it('restores the publisher context in the handler: correlation id, causation = message id', async () => {
    const event = new OrderPlaced('o-2', 1);
    await ref.get(RequestContext).run({ correlationId: 'corr-abc' }, () => bus.publish(event));
    const [seen] = await projected.until(1, (p) => p.event.orderId === 'o-2');
    expect(seen).toMatchObject({ correlationId: 'corr-abc', causationId: event.id });
  });

  it('retries a failing handler with backoff, then succeeds', async () => {
    failFor.set('o-3', 2);
    await bus.publish(new OrderPlaced('o-3', 3));
    expect(await flakyCalls.until(3, (id) => id === 'o-3')).toEqual(['o-3', 'o-3', 'o-3']);
    expect(await deadLetters.list((l) => l.group === 'flaky')).toEqual([]);
  });

  it('waits as long as the failure asks (retryAfterMs) before redelivering', async () => {
    await bus.publish(new OrderPlaced('o-busy', 1));
    const [first, second] = await busyCalls.until(2);
    expect(second! - first!).toBeGreaterThanOrEqual(280); // the backoff alone would be 3-5 ms
  });

  it('dead-letters after the last attempt, with failure headers, and replays on demand', async () => {
    failFor.set('o-4', 3);
    await bus.publish(new OrderPlaced('o-4', 4));
    await flakyCalls.until(3, (id) => id === 'o-4');
    const letters = [await deadLetters.next((l) => l.group === 'flaky')];
    expect(letters[0]!.headers).toMatchObject({
      'x-exception-message': 'downstream refused order o-4',
      'x-exception-type': 'TypeError',
      'x-attempts': '3',
      'x-original-destination': 'test.OrderPlaced#flaky',
    });
    expect(letters[0]!.type).toBe('test.OrderPlaced');
    expect(Date.parse(letters[0]!.headers['x-failed-at']!)).not.toBeNaN();
    const metrics = await ref.get(MetricsService).render();
    expect(metrics.body).toMatch(
      /dead_letters_total\{transport="memory",type="test.OrderPlaced",group="flaky",reason="retries-exhausted"\} 1/,
    );
    expect(metrics.body).toMatch(
      /messages_consumed_total\{transport="memory",type="test.OrderPlaced",group="flaky",outcome="retry"\} \d+/,
    );

    expect(await deadLetters.replay((l) => l.group === 'flaky')).toBe(1);
    await flakyCalls.until(4, (id) => id === 'o-4');
    expect(await deadLetters.list((l) => l.group === 'flaky')).toEqual([]);
  });

  it('upcasts an old schema version on the way in', async () => {
    await ref.get<Transport>(MESSAGING_TRANSPORT).publish([
      {
        type: 'test.OrderPlaced',
        body: JSON.stringify({
          id: 'old-1',
          type: 'test.OrderPlaced',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          payload: { orderId: 'o-old', totalCents: 9 },
          metadata: {},
        }),
        headers: {},
      },
    ]);
    const [seen] = await projected.until(1, (p) => p.event.orderId === 'o-old');
    expect(seen!.event).toMatchObject({ orderId: 'o-old', currency: 'EUR' });
  });

  it('inside a unit of work, publishes only after commit; a rollback publishes nothing', async () => {
    const uow = ref.get(UnitOfWork);
    await expect(
      uow.run(async () => {
        await bus.publish(new OrderPlaced('rolled-back', 1));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await uow.run(async () => {
      await bus.publish(new OrderPlaced('committed', 2));
      expect(audited.items).not.toContain('committed'); // not before the commit
    });
    await audited.until(1, (id) => id === 'committed');
    expect(audited.items).not.toContain('rolled-back');
  });
});

describe('MockEventBus', () => {
  it('records published events and can dispatch them to handlers synchronously', async () => {
    const bus = new MockEventBus();
    const seen: string[] = [];
    bus.on(OrderPlaced, (e) => void seen.push(e.orderId));
    await bus.publish([new OrderPlaced('m-1', 1), new OrderPlaced('m-2', 2)]);
    expect(seen).toEqual(['m-1', 'm-2']);
    expect(bus.expectPublished(OrderPlaced, (e) => e.totalCents === 2).orderId).toBe('m-2');
    expect(() => bus.expectPublished(OrderPlaced, (e) => e.totalCents === 3)).toThrow(
      /expected a published OrderPlaced/,
    );
  });
});

describe('MessagingTestHarness', () => {
  it('awaits publishes and deliveries of the real pipeline without sleeping', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
        MessagingModule.forRoot(),
        ProjectionsModule,
      ],
    }).compile();
    await ref.init();
    const harness = new MessagingTestHarness(ref);
    try {
      await ref.get(EventBus).publish(new OrderPlaced('h-1', 11));
      expect((await harness.published(OrderPlaced, (e) => e.orderId === 'h-1')).totalCents).toBe(
        11,
      );
      const handled = await harness.consumed(OrderPlaced, {
        group: 'audit',
        match: (e) => e.orderId === 'h-1',
      });
      expect(handled?.orderId).toBe('h-1');
      failFor.set('h-2', 1);
      await ref.get(EventBus).publish(new OrderPlaced('h-2', 12));
      await harness.consumed(OrderPlaced, {
        group: 'flaky',
        outcome: 'retry',
        match: (e) => e.orderId === 'h-2',
      });
      await harness.consumed(OrderPlaced, { group: 'flaky', match: (e) => e.orderId === 'h-2' });
    } finally {
      harness.close();
      await ref.close();
    }
  });
});
