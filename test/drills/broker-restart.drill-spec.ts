import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DomainEvent,
  DomainEventType,
  EventBus,
  EventHandler,
  MessagingModule,
  type DomainEventInit,
  type TransportName,
} from '@infrastructure/messaging';
import { MonitoringModule } from '@infrastructure/monitoring';
import { PersistenceModule, UnitOfWork } from '@infrastructure/persistence';
import { TestDatabase, testMonitoringOptions } from '@infrastructure/testing';

// Broker restart drills: 10,000 events published through the outbox while the broker is
// disrupted must all be handled exactly once, by consumers that re-attach on their own.
// This project runs after every other test (vitest `sequence.groupOrder`), one file at a time,
// because it disrupts brokers the other integration tests share.

const TOTAL = 10_000;
const PER_TRANSACTION = 100;

@DomainEventType('drill.Parcel')
class ParcelScanned extends DomainEvent {
  constructor(
    readonly parcel: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: `route-${parcel % 50}`, aggregateType: 'Route', ...init });
  }
}

const counts = new Map<number, number>();
let waiter: { until: number; resolve: () => void } | undefined;

@Injectable()
class Scanner {
  @EventHandler(ParcelScanned, { group: 'drill.scanner', concurrency: 64 })
  on(event: ParcelScanned): void {
    counts.set(event.parcel, (counts.get(event.parcel) ?? 0) + 1);
    if (waiter && counts.size >= waiter.until) waiter.resolve();
  }
}

@Module({ providers: [Scanner] })
class ScannerModule {}

function allHandled(): Promise<void> {
  return new Promise((resolve) => {
    waiter = { until: TOTAL, resolve };
    if (counts.size >= TOTAL) resolve();
  });
}

const drills: Array<{
  transport: TransportName;
  url: string;
  /** Disrupts the broker; resolves when the disruption is over (the broker is back or not). */
  disrupt: (during: () => Promise<void>) => Promise<void>;
}> = [
  {
    transport: 'rabbitmq',
    url: 'amqp://guest:guest@127.0.0.1:5672',
    disrupt: async (during) => {
      execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore', timeout: 60_000 });
      try {
        await during();
      } finally {
        execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore', timeout: 60_000 });
      }
    },
  },
  {
    transport: 'redis',
    url: 'redis://127.0.0.1:6379',
    disrupt: async (during) => {
      const admin = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
      await admin.connect();
      try {
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        await during();
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      } finally {
        admin.disconnect();
      }
    },
  },
];

describe.each(drills)('broker restart drill: $transport', ({ transport, url, disrupt }) => {
  let db: TestDatabase;
  let ref: TestingModule;

  beforeAll(async () => {
    counts.clear();
    db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      entities: [],
    });
    ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        PersistenceModule.forRoot({ url: db.url, pool: { max: 8 } }),
        MessagingModule.forRoot({
          transport,
          url,
          namespace: `drill-${randomUUID().slice(0, 8)}`,
          serviceName: 'drill',
          retry: { attempts: 10, initialDelayMs: 50, maxDelayMs: 1000 },
          outbox: { pollIntervalMs: 200, batchSize: 500 },
        }),
        ScannerModule,
      ],
    }).compile();
    await ref.init();
  }, 60_000);
  afterAll(async () => {
    await ref?.close();
    await db?.destroy();
  });

  it(`handles all ${TOTAL} events exactly once across the disruption`, async () => {
    const uow = ref.get(UnitOfWork);
    const bus = ref.get(EventBus);
    let next = 0;
    const publishSome = async (transactions: number) => {
      for (let t = 0; t < transactions && next < TOTAL; t++) {
        const from = next;
        next += PER_TRANSACTION;
        await uow.run(() =>
          bus.publish(
            Array.from({ length: PER_TRANSACTION }, (_, i) => new ParcelScanned(from + i)),
          ),
        );
      }
    };
    await publishSome(30); // 3,000 before
    await disrupt(() => publishSome(40)); // 4,000 while the broker is away
    await publishSome(TOTAL / PER_TRANSACTION); // the rest after
    expect(next).toBe(TOTAL);
    await allHandled();
    expect(counts.size).toBe(TOTAL);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 180_000);
});
