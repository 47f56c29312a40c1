import { EventStore, type EventStoreSubscription, type RecordedEvent } from './event-store.js';

/** Shared parts of the adapters: the append notification and the catch-up/live subscription. */
export abstract class BaseEventStore extends EventStore {
  private waiters: Array<() => void> = [];

  appended(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes `appended()` waiters (call after the append committed). */
  protected notifyAppended(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  subscribe(
    fromPosition: number,
    handler: (event: RecordedEvent) => Promise<void> | void,
    options: {
      batchSize?: number;
      pollIntervalMs?: number;
      onError?: (error: unknown) => void;
    } = {},
  ): EventStoreSubscription {
    const batchSize = options.batchSize ?? 500;
    const pollIntervalMs = options.pollIntervalMs ?? 1000;
    const state = { closed: false };
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const loop = async () => {
      let position = fromPosition;
      while (!state.closed) {
        const next = this.appended(); // taken before reading: no append slips between
        const batch = await this.readAll({ fromPosition: position, limit: batchSize });
        for (const recorded of batch) {
          if (state.closed) return;
          await handler(recorded);
          position = recorded.position;
        }
        if (batch.length === batchSize) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, pollIntervalMs);
          void next.then(resolve);
        });
        clearTimeout(timer);
      }
    };
    const running = loop().catch((error: unknown) => {
      state.closed = true;
      options.onError?.(error);
    });
    return {
      close: async () => {
        state.closed = true;
        clearTimeout(timer);
        wake?.();
        await running;
      },
    };
  }
}
