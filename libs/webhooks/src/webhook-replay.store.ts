/**
 * Remembers webhook ids already accepted, so a captured request cannot be replayed while its
 * timestamp is still within the tolerance. The port the guard uses; `WebhooksModule` backs it
 * with memory (one process) or Redis (shared by every instance), or your own implementation.
 */
export abstract class WebhookReplayStore {
  /**
   * Records `id` for `ttlSeconds` if it is not recorded yet: true when this call recorded it
   * (first delivery), false when it was already there (a replay). Must be atomic across the
   * instances sharing the store.
   */
  abstract claim(id: string, ttlSeconds: number): Promise<boolean>;

  /**
   * Forgets `id`: the guard calls it when the handler did not succeed (status ≥ 400 or the
   * connection dropped), so the sender's retry of the same id is accepted.
   */
  abstract release(id: string): Promise<void>;

  /** Closes connections the store opened itself. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
