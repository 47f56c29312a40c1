import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeadLetters,
  DomainEvent,
  DomainEventType,
  EventBus,
  EventHandler,
  MESSAGING_TRANSPORT,
  MessagingModule,
  MessagingRuntime,
  toEnvelope,
  type DomainEventInit,
  type MessagingOptions,
  type Transport,
} from '@infrastructure/messaging';
import {
  HealthRegistry,
  MetricsService,
  MonitoringModule,
  RequestContext,
} from '@infrastructure/monitoring';
import { PersistenceModule } from '@infrastructure/persistence';
import { testMonitoringOptions } from '@infrastructure/testing';

@DomainEventType('contract.ItemAdded')
export class ItemAdded extends DomainEvent {
  constructor(
    readonly cartId: string,
    readonly seq: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: cartId, aggregateType: 'Cart', ...init });
  }
}

/** Resolves waiters when a condition on recorded items holds: no sleeps. */
export class Recorder<T> {
  readonly items: T[] = [];
  private waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => (w.done() ? (w.resolve(), false) : true));
  }
  /** Resolves once `count` recorded items match `match`. */
  until(count: number, match: (item: T) => boolean = () => true): Promise<T[]> {
    const matching = () => this.items.filter(match);
    return new Promise((resolve) => {
      const done = () => matching().length >= count;
      if (done()) resolve(matching());
      else this.waiters.push({ done, resolve: () => resolve(matching()) });
    });
  }
}

/** A message written straight into a group's queue, stream, subject or topic by something else. */
export interface ForeignMessage {
  /** The namespace the suite's module runs in. */
  namespace: string;
  /** The consumer group whose destination it lands in (where the broker has one per group). */
  group: string;
  /** The event type whose destination it lands in (where the broker has one per type). */
  type: string;
  body: string;
  headers: Record<string, string>;
}

/** Rejects when `promise` has not settled within `ms`: "at once", with a bound. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Seen {
  group: string;
  cartId: string;
  seq: number;
  event: ItemAdded;
  correlationId?: string;
  causationId?: string;
}

/**
 * The behaviour every transport must have, run against the real broker: delivery to every group,
 * per-key order, retry then success, retry then dead letter with headers and replay to one group,
 * poison messages dead-lettered without stalling the consumer, context restored in handlers,
 * broker health check.
 *
 * `options` must give the transport (and url); the suite picks a fresh namespace and service name
 * per run so leftovers of earlier runs on the broker never interfere.
 */
export function describeTransportContract(
  label: string,
  options: () => Pick<MessagingOptions, 'transport' | 'url'> & Partial<MessagingOptions>,
  traits: {
    /** The broker drops a re-published message id itself (NATS JetStream's duplicate window). */
    dedupesPublishedIds?: boolean;
    /**
     * Writes a message with the broker's own client straight into where `group` reads `type` (the
     * group's queue, the type's stream/subject/topic), bypassing the transport's publish.
     * @default `transport.publish` of the message as it is
     */
    publishForeign?: (transport: Transport, message: ForeignMessage) => Promise<void>;
  } = {},
): void {
  const seen = new Recorder<Seen>();
  const calls = new Recorder<{ cartId: string; attempt: number }>();
  const failFor = new Map<string, number>();
  let attempts = new Map<string, number>();

  @Injectable()
  class CartHandlers {
    constructor(private readonly context: RequestContext) {}

    private record(group: string, event: ItemAdded): void {
      const ctx = this.context.get();
      seen.push({
        group,
        cartId: event.cartId,
        seq: event.seq,
        event,
        correlationId: ctx.correlationId,
        causationId: ctx.causationId,
      });
    }

    @EventHandler(ItemAdded, { group: 'contract-a', concurrency: 8 })
    a(event: ItemAdded): void {
      this.record('a', event);
    }

    @EventHandler(ItemAdded, { group: 'contract-b' })
    b(event: ItemAdded): void {
      this.record('b', event);
    }

    @EventHandler(ItemAdded, { group: 'contract-noinbox', inbox: false })
    noInbox(event: ItemAdded): void {
      this.record('noinbox', event);
    }

    @EventHandler(ItemAdded, {
      group: 'contract-flaky',
      retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 40 },
    })
    flaky(event: ItemAdded): void {
      const n = (attempts.get(event.cartId) ?? 0) + 1;
      attempts.set(event.cartId, n);
      calls.push({ cartId: event.cartId, attempt: n });
      const left = failFor.get(event.cartId) ?? 0;
      if (left > 0) {
        failFor.set(event.cartId, left - 1);
        throw new RangeError(`stock service refused cart ${event.cartId}`);
      }
      this.record('flaky', event);
    }
  }

  @Module({ providers: [CartHandlers] })
  class CartModule {}

  describe(`transport contract: ${label}`, () => {
    let ref: TestingModule;
    let bus: EventBus;
    let transport: Transport;
    let deadLetters: DeadLetters;
    let namespace: string;
    const run = randomUUID().slice(0, 8);
    /** Sum of the samples of `metric` whose label text passes `match`. */
    const counted = async (metric: string, match: (labels: string) => boolean) => {
      const { body } = await ref.get(MetricsService).render();
      let total = 0;
      for (const [, labels, value] of body.matchAll(
        new RegExp(`^${metric}\\{(.*)\\} (\\S+)$`, 'gm'),
      )) {
        if (match(labels!)) total += Number(value);
      }
      return total;
    };
    const publishForeign = (message: Omit<ForeignMessage, 'namespace'>) =>
      traits.publishForeign
        ? traits.publishForeign(transport, { ...message, namespace })
        : transport.publish([message]);

    beforeAll(async () => {
      attempts = new Map();
      const chosen = options();
      namespace = chosen.namespace ?? `contract-${run}`;
      ref = await Test.createTestingModule({
        imports: [
          MonitoringModule.forRoot(testMonitoringOptions()),
          PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
          MessagingModule.forRoot({
            namespace,
            serviceName: `svc-${run}`,
            ...chosen,
          }),
          CartModule,
        ],
      }).compile();
      await ref.init();
      bus = ref.get(EventBus);
      transport = ref.get(MESSAGING_TRANSPORT);
      deadLetters = ref.get(DeadLetters);
    }, 30_000);
    afterAll(() => ref?.close());

    it('delivers every event once to every group, as an instance of its class', async () => {
      const cart = `c-${randomUUID()}`;
      await bus.publish([new ItemAdded(cart, 1), new ItemAdded(cart, 2)]);
      const [inA, inB, inFlaky] = await Promise.all([
        seen.until(2, (s) => s.cartId === cart && s.group === 'a'),
        seen.until(2, (s) => s.cartId === cart && s.group === 'b'),
        seen.until(2, (s) => s.cartId === cart && s.group === 'flaky'),
      ]);
      expect(inA!.map((s) => s.seq).sort()).toEqual([1, 2]);
      expect(inB).toHaveLength(2);
      expect(inFlaky).toHaveLength(2);
      expect(inA![0]!.event).toBeInstanceOf(ItemAdded);
      expect(inA![0]!.event.occurredAt).toBeInstanceOf(Date);
      expect(inA![0]!.event.aggregateType).toBe('Cart');
    });

    it('keeps the order of one key within a group, even with concurrent handlers', async () => {
      const cart = `ordered-${randomUUID()}`;
      const events = Array.from({ length: 40 }, (_, i) => new ItemAdded(cart, i));
      await bus.publish(events.slice(0, 20));
      for (const e of events.slice(20)) await bus.publish(e);
      const inA = await seen.until(40, (s) => s.cartId === cart && s.group === 'a');
      expect(inA.map((s) => s.seq)).toEqual(events.map((e) => e.seq));
      const inB = await seen.until(40, (s) => s.cartId === cart && s.group === 'b');
      expect(inB.map((s) => s.seq)).toEqual(events.map((e) => e.seq));
    });

    it('retries a failing handler in its group only, then succeeds', async () => {
      const cart = `retry-${randomUUID()}`;
      failFor.set(cart, 2);
      await bus.publish(new ItemAdded(cart, 1));
      await seen.until(1, (s) => s.cartId === cart && s.group === 'flaky');
      expect(calls.items.filter((c) => c.cartId === cart).map((c) => c.attempt)).toEqual([1, 2, 3]);
      // the other groups got it exactly once
      await seen.until(1, (s) => s.cartId === cart && s.group === 'a');
      expect(seen.items.filter((s) => s.cartId === cart && s.group === 'a')).toHaveLength(1);
    });

    it('dead-letters after the last attempt with failure headers; replay redelivers to that group only', async () => {
      const cart = `dead-${randomUUID()}`;
      failFor.set(cart, 3);
      const event = new ItemAdded(cart, 1);
      await bus.publish(event);
      const letter = await deadLetters.next((l) => l.headers['x-message-id'] === event.id);
      expect(letter.group).toBe('contract-flaky');
      expect(letter.type).toBe('contract.ItemAdded');
      expect(letter.headers).toMatchObject({
        'x-exception-message': `stock service refused cart ${cart}`,
        'x-exception-type': 'RangeError',
        'x-attempts': '3',
        'x-original-destination': 'contract.ItemAdded#contract-flaky',
      });
      expect(Date.parse(letter.headers['x-failed-at']!)).not.toBeNaN();
      expect(JSON.parse(letter.body)).toMatchObject({ id: event.id, payload: { cartId: cart } });

      expect(await deadLetters.replay((l) => l.headers['x-message-id'] === event.id)).toBe(1);
      await seen.until(1, (s) => s.cartId === cart && s.group === 'flaky');
      expect(await deadLetters.list((l) => l.headers['x-message-id'] === event.id)).toEqual([]);
      // group a handled it once, not again on replay
      await seen.until(1, (s) => s.cartId === cart && s.group === 'a');
      const cartB = `after-replay-${randomUUID()}`;
      await bus.publish(new ItemAdded(cartB, 1));
      await seen.until(1, (s) => s.cartId === cartB && s.group === 'a');
      expect(seen.items.filter((s) => s.cartId === cart && s.group === 'a')).toHaveLength(1);
    });

    it('sends poison messages straight to dead letters and keeps consuming', async () => {
      const id = randomUUID();
      await transport.publish([
        {
          type: 'contract.ItemAdded',
          body: '{not json',
          headers: { 'x-message-id': id, 'content-type': 'application/json' },
        },
      ]);
      const letter = await deadLetters.next(
        (l) => l.headers['x-message-id'] === id && l.group === 'contract-b',
      );
      expect(letter.headers['x-exception-type']).toBe('PoisonMessageError');
      expect(letter.headers['x-dead-letter-reason']).toBe('malformed-envelope: body is not JSON');
      expect(letter.headers['x-attempts']).toBe('1');
      expect(letter.body).toBe('{not json');

      const unknownId = randomUUID();
      await transport.publish([
        {
          type: 'contract.ItemAdded',
          body: JSON.stringify({ id: unknownId, type: 'contract.Nope', payload: {} }),
          headers: { 'x-message-id': unknownId },
        },
      ]);
      const unknown = await deadLetters.next(
        (l) => l.headers['x-message-id'] === unknownId && l.group === 'contract-b',
      );
      expect(unknown.headers['x-exception-message']).toContain('unknown event type');
      expect(unknown.headers['x-dead-letter-reason']).toBe('unknown-type: contract.Nope');

      const cart = `after-poison-${randomUUID()}`;
      await bus.publish(new ItemAdded(cart, 1));
      await seen.until(1, (s) => s.cartId === cart && s.group === 'b');
    });

    it('dead-letters foreign deliveries that are not our envelope at once, with the reason; handles a bare envelope', async () => {
      const marker = randomUUID();
      const cases = [
        { body: `plain text ${marker}`, reason: 'malformed-envelope: body is not JSON' },
        {
          body: JSON.stringify({ id: marker, payload: { cartId: marker, seq: 1 } }),
          reason: 'malformed-envelope: missing type',
        },
        {
          body: JSON.stringify({ type: 'contract.ItemAdded', payload: { cartId: marker, seq: 2 } }),
          reason: 'malformed-envelope: missing id',
        },
      ];
      for (const c of cases) {
        await publishForeign({
          group: 'contract-b',
          type: 'contract.ItemAdded',
          body: c.body,
          headers: {},
        });
        // Far below the rolling-deploy grace of any transport: dead-lettered on the first delivery.
        const letter = await within(
          3_000,
          c.reason,
          deadLetters.next((l) => l.body === c.body && l.group === 'contract-b'),
        );
        expect(letter.headers['x-dead-letter-reason']).toBe(c.reason);
        expect(letter.headers['x-exception-type']).toBe('PoisonMessageError');
        expect(letter.headers['x-attempts']).toBe('1');
      }
      // Counted, with a bounded reason label (the type label is the subscription's or "unknown").
      expect(
        await counted(
          'dead_letters_total',
          (labels) =>
            labels.includes(`transport="${transport.name}"`) &&
            labels.includes('group="contract-b"') &&
            labels.includes('reason="malformed-envelope"'),
        ),
      ).toBeGreaterThanOrEqual(3);

      // Our envelope without our headers is still ours: handled, not dead-lettered.
      const event = new ItemAdded(`bare-${marker}`, 1);
      await publishForeign({
        group: 'contract-b',
        type: 'contract.ItemAdded',
        body: JSON.stringify(toEnvelope(event)),
        headers: {},
      });
      const [s] = await within(
        3_000,
        'bare envelope handled',
        seen.until(1, (x) => x.cartId === event.cartId && x.group === 'b'),
      );
      expect(s!.event).toBeInstanceOf(ItemAdded);
    });

    it('processes a redelivered message once per group (inbox); inbox: false handlers see every delivery', async () => {
      const event = new ItemAdded(`dup-${randomUUID()}`, 1);
      const [message] = ref.get(MessagingRuntime).toMessages([event]);
      await transport.publish([message!]);
      await seen.until(1, (s) => s.cartId === event.cartId && s.group === 'b');
      await transport.publish([message!]); // the broker delivers the same message again
      const marker = new ItemAdded(event.cartId, 2);
      await bus.publish(marker);
      // per-key order: once seq 2 is handled, the duplicate (before it) has been handled too
      await seen.until(1, (s) => s.cartId === event.cartId && s.group === 'b' && s.seq === 2);
      expect(
        seen.items.filter((s) => s.cartId === event.cartId && s.seq === 1 && s.group === 'b'),
      ).toHaveLength(1);
      await seen.until(1, (s) => s.cartId === event.cartId && s.group === 'noinbox' && s.seq === 2);
      expect(
        seen.items.filter((s) => s.cartId === event.cartId && s.seq === 1 && s.group === 'noinbox'),
      ).toHaveLength(traits.dedupesPublishedIds ? 1 : 2);
    });

    it('de-duplicates a bare envelope (no x-message-id header) on its envelope id', async () => {
      const event = new ItemAdded(`bare-dup-${randomUUID()}`, 1);
      const bare = {
        group: 'contract-b',
        type: 'contract.ItemAdded',
        body: JSON.stringify(toEnvelope(event)),
        headers: {},
      };
      const handledInB = new Recorder<string>();
      const stop = ref.get(MessagingRuntime).observe((o) => {
        if (o.kind === 'handled' && o.group === 'contract-b' && o.event?.id === event.id) {
          handledInB.push(o.outcome);
        }
      });
      try {
        await publishForeign(bare);
        const [first] = await seen.until(1, (s) => s.cartId === event.cartId && s.group === 'b');
        expect(first!.causationId).toBe(event.id);
        await publishForeign(bare); // the same message put on the queue again
        expect(await handledInB.until(2)).toEqual(['success', 'success']);
        expect(seen.items.filter((s) => s.cartId === event.cartId && s.group === 'b')).toHaveLength(
          1,
        );
      } finally {
        stop();
      }
    });

    it('restores the publisher context in the handler: correlation id, causation = message id', async () => {
      const event = new ItemAdded(`ctx-${randomUUID()}`, 1);
      await ref.get(RequestContext).run({ correlationId: `corr-${run}` }, () => bus.publish(event));
      const [s] = await seen.until(1, (x) => x.cartId === event.cartId && x.group === 'b');
      expect(s).toMatchObject({ correlationId: `corr-${run}`, causationId: event.id });
    });

    it('reports the broker in the health registry', async () => {
      const registry = ref.get(HealthRegistry);
      expect(registry.names()).toContain(`messaging:${transport.name}`);
      const results = await Promise.all(registry.indicatorsFor('readiness').map((f) => f()));
      const mine = results.find((r) => `messaging:${transport.name}` in r);
      expect(mine?.[`messaging:${transport.name}`]?.status).toBe('up');
      await expect(transport.ping()).resolves.toBeUndefined();
    });
  });
}
