import type { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

interface Window {
  hits: number;
  /** Epoch ms when the window ends. */
  endsAt: number;
  /** Epoch ms until which the key is blocked (0: not blocked). */
  blockedUntil: number;
}

/** Settings of the in-process rate-limit storage. */
export interface MemoryThrottlerStorageOptions {
  /** Most keys kept at once; past it, expired windows are swept, then the oldest dropped. @default 100000 */
  maxKeys?: number;
  /** How often expired windows are removed. @default 10000 */
  sweepIntervalMs?: number;
}

/**
 * Rate-limit counters in this process, used when no Redis is configured: the same fixed window
 * per key as the Redis script (count hits from the first one, block once over the limit for
 * `blockDuration`), O(1) per request and bounded memory (expired windows swept on a timer, at
 * most `maxKeys`). Replaces @nestjs/throttler's `ThrottlerStorageService`, which keeps every
 * hit's expiry in an array per key and filters it on each request: its cost grows with traffic ×
 * limit (17.7% of the sample's CPU at a high limit, issue 19's profile).
 */
export class MemoryThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;
  private readonly timer: NodeJS.Timeout;

  constructor(options: MemoryThrottlerStorageOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.timer = setInterval(() => this.sweep(Date.now()), options.sweepIntervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Keys held now (expired ones until the next sweep). */
  get size(): number {
    return this.windows.size;
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    const id = `${throttlerName}:${key}`;
    let w = this.windows.get(id);
    if (!w || (w.endsAt <= now && w.blockedUntil <= now)) {
      if (!w && this.windows.size >= this.maxKeys) this.makeRoom(now);
      w = { hits: 0, endsAt: now + ttl, blockedUntil: 0 };
      this.windows.set(id, w);
    } else if (w.endsAt <= now) {
      w.hits = 0;
      w.endsAt = now + ttl;
    }
    w.hits++;
    const leftMs = w.endsAt - now;
    if (w.blockedUntil > now) return Promise.resolve(record(w.hits, leftMs, w.blockedUntil - now));
    if (w.hits > limit) {
      if (blockDuration > 0) {
        w.blockedUntil = now + blockDuration;
        return Promise.resolve(record(w.hits, leftMs, blockDuration));
      }
      return Promise.resolve(record(w.hits, leftMs, leftMs));
    }
    return Promise.resolve(record(w.hits, leftMs, 0));
  }

  /** Removes windows that ended and are not blocked. */
  sweep(now: number): void {
    for (const [id, w] of this.windows) {
      if (w.endsAt <= now && w.blockedUntil <= now) this.windows.delete(id);
    }
  }

  private makeRoom(now: number): void {
    this.sweep(now);
    // Still full: drop the oldest keys (Map order is insertion order), a tenth at a time.
    if (this.windows.size < this.maxKeys) return;
    let drop = Math.max(1, Math.floor(this.maxKeys / 10));
    for (const id of this.windows.keys()) {
      if (drop-- <= 0) break;
      this.windows.delete(id);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}

function record(hits: number, leftMs: number, blockedMs: number): ThrottlerStorageRecord {
  return {
    totalHits: hits,
    timeToExpire: Math.ceil(leftMs / 1000),
    isBlocked: blockedMs > 0,
    timeToBlockExpire: Math.ceil(blockedMs / 1000),
  };
}
