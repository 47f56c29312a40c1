import { Injectable } from '@nestjs/common';
import { getLogger } from '@infrastructure/monitoring';
import { CheckpointStore } from './checkpoint-store.js';
import { EventSourcingError } from './errors.js';
import { EventStore } from './event-store.js';
import { EventSourcing } from './event-sourcing.service.js';
import { describeError, ParkedEventStore, type ParkedEvent } from './parked-event-store.js';
import { ProjectionRunner } from './projection.runner.js';

/** What `replayAll` did. */
export interface ParkedReplayResult {
  replayed: number;
  /** Still parked: the handler failed again (the row has the new error and attempts). */
  failed: Array<{ projection: string; position: number; error: string }>;
}

/**
 * Events projections parked after their handlers kept failing on them (policy `park`): list them,
 * replay them once the handler or the data is fixed, or discard them. A replay applies the event
 * through the projection's handler in one transaction that holds the projection's checkpoint lock
 * (so it never interleaves with a batch) and removes it from the parked events; it applies the
 * event after the ones that followed it, so make handlers that must see events in order
 * commutative or use `onFailure: 'stop'` (or `rebuild()`).
 */
@Injectable()
export class ParkedEvents {
  private readonly log = getLogger('Projections');

  constructor(
    private readonly parked: ParkedEventStore,
    private readonly runner: ProjectionRunner,
    private readonly store: EventStore,
    private readonly checkpoints: CheckpointStore,
    private readonly es: EventSourcing,
  ) {}

  /** Parked events, oldest position first; of one projection when given. */
  list(projection?: string, limit = 1000): Promise<ParkedEvent[]> {
    return this.es.run(() => this.parked.list(projection, limit));
  }

  /**
   * Applies one parked event through its projection's handler and forgets it.
   * @throws EventSourcingError when it is not parked; the handler's error when it fails again
   * (it stays parked, with the new error and one more attempt).
   */
  async replay(projection: string, position: number): Promise<void> {
    this.runner.position(projection); // throws for an unknown projection
    try {
      await this.es.run(async () => {
        await this.checkpoints.lock(projection);
        if (!(await this.parked.get(projection, position))) {
          throw new EventSourcingError(
            `projection '${projection}' has no parked event at position ${position}`,
          );
        }
        const [recorded] = await this.store.readAll({ fromPosition: position - 1, limit: 1 });
        if (recorded?.position === position) {
          await this.runner.handler(projection, recorded)?.(recorded.event, recorded);
        }
        // An event the store no longer returns (retention) has nothing left to apply.
        await this.parked.remove(projection, position);
      });
    } catch (error) {
      if (error instanceof EventSourcingError) throw error;
      await this.es.run(() => this.parked.failed(projection, position, describeError(error)));
      throw error;
    }
    this.log.info({ projection, position }, 'parked event replayed');
  }

  /** Replays every parked event (of one projection when given), oldest first. */
  async replayAll(projection?: string): Promise<ParkedReplayResult> {
    const result: ParkedReplayResult = { replayed: 0, failed: [] };
    for (const entry of await this.list(projection, 10_000)) {
      try {
        await this.replay(entry.projection, entry.position);
        result.replayed++;
      } catch (error) {
        result.failed.push({
          projection: entry.projection,
          position: entry.position,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return result;
  }

  /** Forgets a parked event without applying it. */
  async discard(projection: string, position: number): Promise<void> {
    await this.es.run(() => this.parked.remove(projection, position));
    this.log.warn({ projection, position }, 'parked event discarded');
  }
}
