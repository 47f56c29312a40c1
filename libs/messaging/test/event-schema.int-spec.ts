import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DeadLetters,
  DomainEvent,
  DomainEventType,
  EventBus,
  EventHandler,
  EventValidationError,
  MESSAGING_TRANSPORT,
  MessagingModule,
  toEnvelope,
  type DomainEventInit,
  type EventSchema,
  type Transport,
} from '@infrastructure/messaging';
import { MonitoringModule } from '@infrastructure/monitoring';
import { PersistenceModule, UnitOfWork } from '@infrastructure/persistence';
import { testMonitoringOptions } from '@infrastructure/testing';
import { Recorder } from './contract/transport-contract.js';

@DomainEventType('schema.SeatBooked', {
  schemaVersion: 2,
  // v1 had no row; the upcast result is what the schema checks on the way in.
  upcasters: { 1: (p) => ({ ...p, row: 'A' }) },
  schema: z.object({
    showId: z.string().min(1),
    seat: z.number().int().positive(),
    row: z.enum(['A', 'B', 'C']),
  }),
})
class SeatBooked extends DomainEvent {
  constructor(
    readonly showId: string,
    readonly seat: number,
    readonly row: string,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: showId, aggregateType: 'Show', ...init });
  }
}

/** A Standard Schema written by hand, asynchronous: any library with `~standard` works. */
const codeSchema: EventSchema = {
  '~standard': {
    version: 1,
    vendor: 'hand-made',
    validate: async (value) => {
      const code = (value as { code?: unknown }).code;
      return typeof code === 'string' && /^[A-Z]{3}$/.test(code)
        ? { value }
        : { issues: [{ message: 'three capital letters', path: [{ key: 'code' }] }] };
    },
  },
};

@DomainEventType('schema.VoucherIssued', { schema: codeSchema })
class VoucherIssued extends DomainEvent {
  constructor(
    readonly code: string,
    init?: DomainEventInit,
  ) {
    super(init);
  }
}

const booked = new Recorder<SeatBooked>();
const vouchers = new Recorder<VoucherIssued>();

@Injectable()
class Handlers {
  @EventHandler(SeatBooked, { group: 'seats' })
  seat(event: SeatBooked): void {
    booked.push(event);
  }

  @EventHandler(VoucherIssued, { group: 'vouchers' })
  voucher(event: VoucherIssued): void {
    vouchers.push(event);
  }
}

@Module({ providers: [Handlers] })
class HandlersModule {}

describe('event payload schemas', () => {
  let ref: TestingModule;
  let bus: EventBus;
  let transport: Transport;
  let deadLetters: DeadLetters;

  const outboxRows = async () => {
    const rows = (await ref
      .get<DataSource>(getDataSourceToken())
      .query('SELECT COUNT(*) AS n FROM outbox_messages')) as Array<{ n: number }>;
    return Number(rows[0]!.n);
  };

  beforeAll(async () => {
    ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
        MessagingModule.forRoot({ serviceName: 'schema-test', outbox: { mode: 'always' } }),
        HandlersModule,
      ],
    }).compile();
    await ref.init();
    bus = ref.get(EventBus);
    transport = ref.get(MESSAGING_TRANSPORT);
    deadLetters = ref.get(DeadLetters);
  });
  afterAll(() => ref?.close());

  it('publishes a valid event and hands it to the handler', async () => {
    const show = `show-${randomUUID()}`;
    await bus.publish(new SeatBooked(show, 12, 'B'));
    const [event] = await booked.until(1, (e) => e.showId === show);
    expect(event).toBeInstanceOf(SeatBooked);
    expect(event).toMatchObject({ seat: 12, row: 'B' });
  });

  it('rejects an invalid event on publish, naming the type and the paths; nothing reaches the outbox', async () => {
    const before = await outboxRows();
    const show = `show-${randomUUID()}`;
    const error = await bus
      .publish([new SeatBooked(show, 1, 'A'), new SeatBooked('', -3, 'Z')])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(EventValidationError);
    const e = error as EventValidationError;
    expect(e.type).toBe('schema.SeatBooked');
    expect(e.issues.map((i) => i.path)).toEqual(['showId', 'seat', 'row']);
    expect(e.message).toMatch(
      /^schema\.SeatBooked: invalid payload: showId: .+; seat: .+; row: .+/,
    );
    // Neither event of the batch was written, the valid one included.
    expect(await outboxRows()).toBe(before);
  });

  it('rolls back the unit of work the invalid publish ran in', async () => {
    const uow = ref.get(UnitOfWork);
    const before = await outboxRows();
    await expect(
      uow.run(async () => {
        await bus.publish(new SeatBooked(`show-${randomUUID()}`, 2, 'A'));
        await bus.publish(new VoucherIssued('lowercase'));
      }),
    ).rejects.toThrow('schema.VoucherIssued: invalid payload: code: three capital letters');
    expect(await outboxRows()).toBe(before);
  });

  it('runs asynchronous Standard Schemas of other libraries', async () => {
    await bus.publish(new VoucherIssued('XMS'));
    const [voucher] = await vouchers.until(1, (v) => v.code === 'XMS');
    expect(voucher).toBeInstanceOf(VoucherIssued);
  });

  it('dead-letters a consumed payload that fails the schema at once, with the reason', async () => {
    const envelope = toEnvelope(new SeatBooked(`show-${randomUUID()}`, 4, 'A'));
    const bad = { ...envelope, payload: { ...envelope.payload, seat: 'four' } };
    await transport.publish([
      {
        type: 'schema.SeatBooked',
        body: JSON.stringify(bad),
        headers: { 'x-message-id': envelope.id },
      },
    ]);
    const letter = await deadLetters.next((l) => l.headers['x-message-id'] === envelope.id);
    expect(letter.group).toBe('seats');
    expect(letter.headers['x-dead-letter-reason']).toMatch(/^invalid-payload: seat: .+/);
    expect(letter.headers['x-exception-type']).toBe('PoisonMessageError');
    expect(letter.headers['x-exception-message']).toMatch(
      /^schema\.SeatBooked: invalid payload: seat: /,
    );
    expect(letter.headers['x-attempts']).toBe('1');
  });

  it('checks the upcast payload of an old schema version', async () => {
    const show = `show-${randomUUID()}`;
    const v1 = {
      id: randomUUID(),
      type: 'schema.SeatBooked',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      payload: { showId: show, seat: 7 },
      metadata: {},
    };
    await transport.publish([
      { type: 'schema.SeatBooked', body: JSON.stringify(v1), headers: { 'x-message-id': v1.id } },
    ]);
    const [event] = await booked.until(1, (e) => e.showId === show);
    expect(event).toMatchObject({ seat: 7, row: 'A' });
  });
});
