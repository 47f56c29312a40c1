import { RevocationStore } from '../revocation-store.js';

const SWEEP_EVERY = 1024;

/**
 * Revocations in this process's memory: for a single instance or tests. Entries expire with their
 * TTL (swept every 1024 writes), so memory follows the number of live revoked tokens.
 * In Nest: `{ provide: RevocationStore, useClass: MemoryRevocationStore }`.
 */
export class MemoryRevocationStore extends RevocationStore {
  private readonly entries = new Map<string, number>();
  private writes = 0;

  /** @param now clock in milliseconds (tests pass a fake one) */
  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  revoke(id: string, ttlSeconds: number): Promise<boolean> {
    const now = this.now();
    if (++this.writes % SWEEP_EVERY === 0) this.sweep(now);
    const until = this.entries.get(id);
    if (until !== undefined && until > now) return Promise.resolve(false);
    this.entries.set(id, now + Math.max(1, Math.ceil(ttlSeconds)) * 1000);
    return Promise.resolve(true);
  }

  isRevoked(ids: readonly string[]): Promise<boolean> {
    const now = this.now();
    return Promise.resolve(ids.some((id) => (this.entries.get(id) ?? 0) > now));
  }

  /** Number of entries held (expired ones included until swept). */
  get size(): number {
    return this.entries.size;
  }

  private sweep(now: number): void {
    for (const [id, until] of this.entries) if (until <= now) this.entries.delete(id);
  }
}
