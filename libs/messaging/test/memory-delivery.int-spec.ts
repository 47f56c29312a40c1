import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DeadLetters,
  DomainEvent,
  DomainEventType,
  EventBus,
  EventHandler,
  MESSAGING_TRANSPORT,
  MemoryTransport,
  MessagingModule,
  type DomainEventInit,
  type OutgoingMessage,
  type Transport,
} from '@infrastructure/messaging';
import { MonitoringModule } from '@infrastructure/monitoring';
import { testMonitoringOptions } from '@infrastructure/testing';
import { Recorder, within } from './contract/transport-contract.js';

class Money {
  constructor(readonly cents: number) {}
  toJSON() {
    return { amount: this.cents / 100, currency: 'EUR' };
  }
}

@DomainEventType('memory.OrderNoted')
class OrderNoted extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly lines: { sku: string; qty: number }[],
    readonly extra: Record<string, unknown> = {},
    init?: DomainEventInit,
  ) {
    super({ aggregateId: orderId, aggregateType: 'Order', ...init });
  }
}

interface Got {
  group: string;
  attempt: number;
  event: OrderNoted;
  /** JSON of the event as the handler first saw it (before it changed anything). */
  seen: string;
  /** The application's own async-context store where the handler ran. */
  store?: string;
}

/** An async context of the application's own (not the pipeline's). */
const appContext = new AsyncLocalStorage<string>();

const got = new Recorder<Got>();
const attempts = new Map<string, number>();

@Injectable()
class Handlers {
  @EventHandler(OrderNoted, {
    group: 'memory-mutating',
    retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
  })
  mutating(event: OrderNoted): void {
    const attempt = (attempts.get(event.orderId) ?? 0) + 1;
    attempts.set(event.orderId, attempt);
    got.push({ group: 'mutating', attempt, event, seen: JSON.stringify(event) });
    // Changes everything it was given, then fails once: the retry must see the original.
    event.lines[0]!.qty = 999;
    event.lines.push({ sku: 'INJECTED', qty: 1 });
    (event.metadata as Record<string, string>).tampered = 'yes';
    (event.extra as Record<string, unknown>).nested = 'changed';
    if (attempt === 1 || event.orderId.startsWith('dl-')) throw new Error('handler fails');
  }

  @EventHandler(OrderNoted, { group: 'memory-reading' })
  reading(event: OrderNoted): void {
    const store = appContext.getStore();
    got.push({ group: 'reading', attempt: 1, event, seen: JSON.stringify(event), store });
    // What a handler enters stays its own (it would reach the next delivery if they chained).
    if (event.orderId.startsWith('ctx-')) appContext.enterWith(`entered by ${event.orderId}`);
  }

  @EventHandler(OrderNoted, { group: 'memory-async' })
  async later(event: OrderNoted): Promise<void> {
    await Promise.resolve();
    got.push({ group: 'async', attempt: 1, event, seen: JSON.stringify(event) });
  }
}

@Module({ providers: [Handlers] })
class HandlersModule {}

const of = (orderId: string, group: string) => (g: Got) =>
  g.event.orderId === orderId && g.group === group;

describe('memory transport: in-process delivery of published envelopes', () => {
  let ref: TestingModule;
  let bus: EventBus;
  let transport: Transport;

  beforeAll(async () => {
    ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        MessagingModule.forRoot({
          serviceName: `mem-${randomUUID().slice(0, 8)}`,
          transport: 'memory',
        }),
        HandlersModule,
      ],
    }).compile();
    await ref.init();
    bus = ref.get(EventBus);
    transport = ref.get(MESSAGING_TRANSPORT);
  });

  afterEach(() => vi.restoreAllMocks());
  afterAll(() => ref?.close());

  it('gives every group and every attempt its own copy: what one handler changes, no other sees', async () => {
    const orderId = `o-${randomUUID()}`;
    await bus.publish(new OrderNoted(orderId, [{ sku: 'A', qty: 2 }], { nested: 'original' }));
    const [first, retry] = await got.until(2, of(orderId, 'mutating'));
    const [reading] = await got.until(1, of(orderId, 'reading'));
    expect(retry!.attempt).toBe(2);
    for (const delivery of [first!, retry!, reading!]) {
      const seen = JSON.parse(delivery.seen) as Record<string, unknown>;
      expect(seen.lines).toEqual([{ sku: 'A', qty: 2 }]);
      expect(seen.extra).toEqual({ nested: 'original' });
      expect(seen.metadata).toEqual({});
    }
    expect(reading!.event.lines).toEqual([{ sku: 'A', qty: 2 }]);
  });

  it('hands over the payload as it travels (the JSON form), not the publisher’s objects', async () => {
    const orderId = `json-${randomUUID()}`;
    const at = new Date(Date.UTC(2026, 11, 6, 12, 0, 0, 5));
    const lines = [{ sku: 'A', qty: 1 }];
    const extra = { at, price: new Money(1250), gone: undefined, nan: Number.NaN };
    const event = new OrderNoted(orderId, lines, extra);
    await bus.publish(event);
    // Changed after publish resolved, before the delivery (which is never inside publish).
    lines[0]!.qty = 7;
    extra.price = new Money(1);
    const [reading] = await got.until(1, of(orderId, 'reading'));
    expect(reading!.event).toBeInstanceOf(OrderNoted);
    expect(reading!.event.occurredAt).toEqual(event.occurredAt);
    expect(reading!.event.id).toBe(event.id);
    expect(reading!.event.lines).toEqual([{ sku: 'A', qty: 1 }]);
    expect(reading!.event.extra).toStrictEqual({
      at: '2026-12-06T12:00:00.005Z',
      price: { amount: 12.5, currency: 'EUR' },
      nan: null,
    });
  });

  it('starts every delivery outside the publisher’s and the previous handler’s async context', async () => {
    const first = `ctx-${randomUUID()}`;
    const second = `ctx-${randomUUID()}`;
    await appContext.run('publisher', () =>
      bus.publish([new OrderNoted(first, []), new OrderNoted(second, [])]),
    );
    const [a] = await got.until(1, of(first, 'reading'));
    const [b] = await got.until(1, of(second, 'reading'));
    expect(a!.store).toBeUndefined();
    expect(b!.store).toBeUndefined();
  });

  it('rejects a publish JSON cannot carry (a BigInt) and delivers nothing', async () => {
    const orderId = `bigint-${randomUUID()}`;
    await expect(bus.publish(new OrderNoted(orderId, [], { big: 10n }))).rejects.toThrow(TypeError);
    const after = `after-${randomUUID()}`;
    await bus.publish(new OrderNoted(after, []));
    await got.until(1, of(after, 'reading'));
    expect(got.items.filter((g) => g.event.orderId === orderId)).toHaveLength(0);
  });

  it('writes no JSON text on the way to handlers, and the text when something reads the body', async () => {
    const sent: OutgoingMessage[] = [];
    const publish = transport.publish.bind(transport);
    vi.spyOn(transport, 'publish').mockImplementation((messages) => {
      sent.push(...messages);
      return publish(messages);
    });
    const stringify = vi.spyOn(JSON, 'stringify');
    const orderId = `lazy-${randomUUID()}`;
    await bus.publish(new OrderNoted(orderId, [{ sku: 'A', qty: 1 }]));
    await got.until(1, of(orderId, 'reading'));
    await got.until(1, of(orderId, 'async'));
    const [message] = sent;
    expect(message!.envelope).toBeDefined();
    expect(stringify.mock.calls.some(([value]) => value === message!.envelope)).toBe(false);
    stringify.mockRestore();
    expect(JSON.parse(message!.body)).toStrictEqual(message!.envelope);
    expect(JSON.parse(message!.body)).toMatchObject({
      type: 'memory.OrderNoted',
      payload: { orderId, lines: [{ sku: 'A', qty: 1 }], extra: {} },
      aggregateId: orderId,
    });
  });

  it('keeps the envelope text in a dead letter of an in-process delivery', async () => {
    const orderId = `dl-${randomUUID()}`;
    // Both attempts of the mutating group fail for a `dl-` order.
    const event = new OrderNoted(orderId, [{ sku: 'A', qty: 1 }]);
    await bus.publish(event);
    const letter = await ref.get(DeadLetters).next((l) => l.headers['x-message-id'] === event.id);
    expect(letter.group).toContain('memory-mutating');
    const body = JSON.parse(letter.body) as { id: string; payload: { lines: unknown } };
    expect(body.id).toBe(event.id);
    expect(body.payload.lines).toEqual([{ sku: 'A', qty: 1 }]);
  });

  it('decodes a `__proto__` payload field as a field: the instance keeps its class', async () => {
    const id = randomUUID();
    const orderId = `proto-${id}`;
    const body = `{"id":"${id}","type":"memory.OrderNoted","schemaVersion":1,"occurredAt":"2026-12-06T12:00:00.000Z","payload":{"orderId":"${orderId}","lines":[],"__proto__":{"polluted":true}},"metadata":{}}`;
    await transport.publish([{ type: 'memory.OrderNoted', body, headers: {} }]);
    const [reading] = await got.until(1, of(orderId, 'reading'));
    const event = reading!.event as OrderNoted & { polluted?: boolean };
    expect(event).toBeInstanceOf(OrderNoted);
    expect(Object.getPrototypeOf(event)).toBe(OrderNoted.prototype);
    expect(event.polluted).toBeUndefined();
    expect(Object.keys(event)).toContain('__proto__');
  });
});

describe('MemoryTransport.close', () => {
  it('waits for deliveries in flight, for every caller', async () => {
    const transport = new MemoryTransport();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const started = new Recorder<number>();
    let finished = 0;
    await transport.subscribe(
      't',
      'g',
      async () => {
        started.push(1);
        await held;
        finished++;
        return { outcome: 'success' };
      },
      { prefetch: 4 },
    );
    await transport.publish([1, 2, 3].map((n) => ({ type: 't', body: String(n), headers: {} })));
    await started.until(3);
    let closed = 0;
    const closing = [
      transport.close().then(() => closed++),
      transport.close().then(() => closed++),
    ];
    // Not closed while the handlers hold, however many turns of the event loop pass.
    for (let turn = 0; turn < 10; turn++) await new Promise(setImmediate);
    expect(closed).toBe(0);
    release();
    await within(2_000, 'close', Promise.all(closing));
    expect(closed).toBe(2);
    expect(finished).toBe(3);
    await expect(transport.publish([{ type: 't', body: '4', headers: {} }])).rejects.toThrow(
      /closed/,
    );
  });
});
