import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { DomainEvent, DomainEventType, type DomainEventInit } from '@infrastructure/messaging';
import { EventSourcingModule } from './event-sourcing.module.js';
import { resolveEventSourcingOptions } from './event-sourcing.options.js';
import { EventStore } from './event-store.js';
import { ParkedEvents } from './parked-events.js';
import { Projection, When } from './projection.decorators.js';
import { ProjectionRunner } from './projection.runner.js';

@DomainEventType('parked-spec.Counted')
class Counted extends DomainEvent {
  constructor(
    readonly n: number,
    init?: DomainEventInit,
  ) {
    super(init);
  }
}

@Projection('counter', { maxAttempts: 2 })
@Injectable()
class Counter {
  static poison = new Set<number>();
  /** A set: the memory store has no transaction to roll a failed batch back. */
  readonly seen = new Set<number>();

  @When(Counted)
  counted(e: Counted): void {
    if (Counter.poison.has(e.n)) throw new TypeError(`cannot count ${e.n}`);
    this.seen.add(e.n);
  }
}

/** Parks on the first failure, even one in the middle of a full batch. */
@Projection('impatient', { maxAttempts: 1 })
@Injectable()
class Impatient {
  readonly seen = new Set<number>();

  @When(Counted)
  counted(e: Counted): void {
    if (Counter.poison.has(e.n)) throw new TypeError(`cannot count ${e.n}`);
    this.seen.add(e.n);
  }
}

async function counterApp(): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [
      EventSourcingModule.forRoot({ store: 'memory', projections: { pollIntervalMs: 10 } }),
    ],
    providers: [Counter, Impatient],
  }).compile();
  await ref.init();
  return ref;
}

describe('parking on the memory store', () => {
  it('parks the failing event after maxAttempts, projects the rest in order, replays it once fixed', async () => {
    const ref = await counterApp();
    try {
      Counter.poison = new Set([3]);
      const store = ref.get(EventStore);
      for (let n = 1; n <= 5; n++) await store.append(`c-${n % 2}`, [new Counted(n)]);
      await ref.get(ProjectionRunner).caughtUp('counter');
      expect([...ref.get(Counter).seen]).toEqual([1, 2, 4, 5]);
      await ref.get(ProjectionRunner).caughtUp('impatient');
      expect([...ref.get(Impatient).seen]).toEqual([1, 2, 4, 5]);
      const parked = ref.get(ParkedEvents);
      // Its first failure was inside the full batch; the events before it went first, then it failed alone.
      expect(await parked.list('impatient')).toMatchObject([{ position: 3, attempts: 2 }]);
      await parked.discard('impatient', 3);
      expect(await parked.list()).toMatchObject([
        {
          projection: 'counter',
          position: 3,
          streamId: 'c-1',
          type: 'parked-spec.Counted',
          error: 'TypeError: cannot count 3',
          attempts: 2,
        },
      ]);
      expect(await parked.replayAll()).toMatchObject({
        replayed: 0,
        failed: [{ projection: 'counter', position: 3, error: 'cannot count 3' }],
      });
      Counter.poison = new Set();
      expect(await parked.replayAll('counter')).toEqual({ replayed: 1, failed: [] });
      expect([...ref.get(Counter).seen]).toEqual([1, 2, 4, 5, 3]);
      expect(await parked.list('counter')).toEqual([]);
      await expect(parked.replay('nope', 1)).rejects.toThrow("no projection named 'nope'");
    } finally {
      await ref.close();
    }
  });

  it('discards a parked event without applying it', async () => {
    const ref = await counterApp();
    try {
      Counter.poison = new Set([1]);
      await ref.get(EventStore).append('d', [new Counted(1), new Counted(2)]);
      await ref.get(ProjectionRunner).caughtUp('counter');
      const parked = ref.get(ParkedEvents);
      expect((await parked.list('counter')).map((p) => p.position)).toEqual([1]);
      await parked.discard('counter', 1);
      expect(await parked.list('counter')).toEqual([]);
      expect([...ref.get(Counter).seen]).toEqual([2]);
    } finally {
      Counter.poison = new Set();
      await ref.close();
    }
  });

  it('refuses a bad failure policy or attempt count, naming the key', () => {
    expect(() =>
      resolveEventSourcingOptions({ projections: { onFailure: 'skip' as never } }),
    ).toThrow(/projections\.onFailure/);
    expect(() => resolveEventSourcingOptions({ projections: { maxAttempts: 0 } })).toThrow(
      /projections\.maxAttempts/,
    );
    expect(resolveEventSourcingOptions().projections).toMatchObject({
      onFailure: 'park',
      maxAttempts: 5,
    });
  });
});
