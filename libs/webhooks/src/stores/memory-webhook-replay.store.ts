import { WebhookReplayStore } from '../webhook-replay.store.js';

/**
 * {@link WebhookReplayStore} in this process: a map of ids to expiry times, swept as it is used.
 * Enough for one instance; behind a load balancer use the Redis store (a replay sent to another
 * instance would not be seen).
 */
export class MemoryWebhookReplayStore extends WebhookReplayStore {
  private readonly expiries = new Map<string, number>();
  private nextSweep = 0;

  constructor(
    /** Clock in milliseconds (tests). */
    private readonly now: () => number = Date.now,
    /** Time between sweeps of expired ids. */
    private readonly sweepIntervalMs = 30_000,
  ) {
    super();
  }

  claim(id: string, ttlSeconds: number): Promise<boolean> {
    const now = this.now();
    this.sweep(now);
    const expiry = this.expiries.get(id);
    if (expiry !== undefined && expiry > now) return Promise.resolve(false);
    this.expiries.set(id, now + ttlSeconds * 1000);
    return Promise.resolve(true);
  }

  release(id: string): Promise<void> {
    this.expiries.delete(id);
    return Promise.resolve();
  }

  /** Ids currently remembered (expired ones may linger until the next sweep). */
  get size(): number {
    return this.expiries.size;
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.sweepIntervalMs;
    for (const [id, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(id);
  }
}
