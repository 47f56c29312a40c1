import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { DomainEvent, DomainEventType } from '@infrastructure/messaging';
import { CheckpointStore, MemoryCheckpointStore } from './checkpoint-store.js';
import { EventSourcingModule } from './event-sourcing.module.js';
import { EventStore } from './event-store.js';
import { Projection, When } from './projection.decorators.js';
import { ProjectionRunner } from './projection.runner.js';

@DomainEventType('checkpoint-spec.Ticked')
class Ticked extends DomainEvent {
  constructor(readonly n: number) {
    super();
  }
}

@Projection('ticks')
@Injectable()
class Ticks {
  count = 0;

  @When(Ticked)
  ticked(): void {
    this.count++;
  }
}

/** The memory checkpoints, recording which calls the runner makes, in order. */
class RecordingCheckpoints extends MemoryCheckpointStore {
  readonly calls: string[] = [];
  override async ensure(name: string): Promise<void> {
    this.calls.push(`ensure ${name}`);
  }
  override async lock(name: string): Promise<number> {
    this.calls.push(`lock ${name}`);
    return super.lock(name);
  }
}

describe('ProjectionRunner and its checkpoint row', () => {
  it('ensures the checkpoint (outside a transaction) before the first batch locks it', async () => {
    const checkpoints = new RecordingCheckpoints();
    const ref = await Test.createTestingModule({
      imports: [
        EventSourcingModule.forRoot({ store: 'memory', projections: { pollIntervalMs: 10 } }),
      ],
      providers: [Ticks],
    })
      .overrideProvider(CheckpointStore)
      .useValue(checkpoints)
      .compile();
    await ref.init();
    try {
      await ref.get(EventStore).append('t-1', [new Ticked(1)]);
      await ref.get(ProjectionRunner).caughtUp('ticks');
      expect(ref.get(Ticks).count).toBe(1);
      expect(checkpoints.calls.slice(0, 2)).toEqual(['ensure ticks', 'lock ticks']);
      expect(checkpoints.calls.filter((c) => c.startsWith('ensure'))).toEqual(['ensure ticks']);
    } finally {
      await ref.close();
    }
  });
});
