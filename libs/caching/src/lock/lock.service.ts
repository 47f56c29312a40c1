import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { withTimeout, type RedisClient } from '@infrastructure/core';
import { LockNotAcquiredError, LockUnavailableError } from '../errors.js';

/** A held lock. */
export interface LockHandle {
  readonly key: string;
  /**
   * Increases with every acquisition of this key (across instances with Redis): pass it to the
   * resource you protect and have it refuse writes carrying a lower token than it has seen, so a
   * holder that paused past its TTL cannot overwrite its successor's work.
   */
  readonly fencingToken: number;
  /** Aborted when the lease runs out (the TTL passed without `extend`). */
  readonly signal: AbortSignal;
  /** Extends the lease to `ttlMs` from now; false when it was already lost. */
  extend(ttlMs: number): Promise<boolean>;
}

/** Options of {@link LockService.withLock}. */
export interface WithLockOptions {
  /** How long to wait for a lock held by someone else before `LockNotAcquiredError`. @default 5000 */
  waitMs?: number;
  /** Pause between tries while waiting. @default 50 */
  retryDelayMs?: number;
}

/**
 * Mutual exclusion across instances: `withLock(key, ttlMs, fn)` runs `fn` while holding `key`
 * and releases it after, even when `fn` throws. With Redis it is a single-instance Redlock (SET NX
 * PX with a random owner, compare-and-delete release) plus a fencing token; with the memory store
 * it is process-local. Unlike cache reads, locks **fail closed**: Redis unreachable →
 * `LockUnavailableError`.
 */
export abstract class LockService {
  /** Runs `fn` holding the lock `key` for at most `ttlMs` (extend it through the handle for longer work). */
  async withLock<T>(
    key: string,
    ttlMs: number,
    fn: (lock: LockHandle) => Promise<T> | T,
    options: WithLockOptions = {},
  ): Promise<T> {
    const waitMs = options.waitMs ?? 5000;
    const retryDelayMs = options.retryDelayMs ?? 50;
    const deadline = Date.now() + waitMs;
    let handle = await this.tryAcquire(key, ttlMs);
    while (!handle) {
      if (Date.now() >= deadline) throw new LockNotAcquiredError(key, waitMs);
      await new Promise((r) =>
        setTimeout(r, Math.min(retryDelayMs, Math.max(1, deadline - Date.now()))),
      );
      handle = await this.tryAcquire(key, ttlMs);
    }
    try {
      return await fn(handle);
    } finally {
      await this.release(handle).catch(() => false);
    }
  }

  /** Takes the lock if it is free; undefined when someone holds it. */
  abstract tryAcquire(key: string, ttlMs: number): Promise<LockHandle | undefined>;

  /** Releases a lock taken by {@link tryAcquire} (only if still ours); true when it was. */
  abstract release(handle: LockHandle): Promise<boolean>;
}

class Handle implements LockHandle {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;

  constructor(
    readonly key: string,
    readonly owner: string,
    readonly fencingToken: number,
    ttlMs: number,
    private readonly extender: (h: Handle, ttlMs: number) => Promise<boolean>,
  ) {
    this.arm(ttlMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async extend(ttlMs: number): Promise<boolean> {
    if (this.signal.aborted) return false;
    const ok = await this.extender(this, ttlMs);
    if (ok) this.arm(ttlMs);
    return ok;
  }

  done(): void {
    clearTimeout(this.timer);
  }

  private arm(ttlMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.controller.abort(new Error(`lock "${this.key}" expired`)),
      ttlMs,
    );
    this.timer.unref();
  }
}

const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

type LockCommands = Redis & {
  cacheLockAcquire(lock: string, fence: string, owner: string, ttl: number): Promise<number>;
  cacheLockRelease(lock: string, owner: string): Promise<number>;
  cacheLockExtend(lock: string, owner: string, ttl: number): Promise<number>;
};

/** {@link LockService} on one Redis (keys `<prefix>lock:<key>` and `<prefix>fence:<key>`). */
export class RedisLockService extends LockService {
  private readonly redis: LockCommands;

  constructor(
    redisClient: RedisClient,
    private readonly prefix: string,
    private readonly timeoutMs = 1000,
  ) {
    super();
    const client = redisClient as Redis;
    const c = client as LockCommands;
    if (typeof c.cacheLockAcquire !== 'function') {
      client.defineCommand('cacheLockAcquire', { numberOfKeys: 2, lua: ACQUIRE });
      client.defineCommand('cacheLockRelease', { numberOfKeys: 1, lua: RELEASE });
      client.defineCommand('cacheLockExtend', { numberOfKeys: 1, lua: EXTEND });
    }
    this.redis = c;
  }

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    const owner = randomUUID();
    const token = await this.call(key, () =>
      this.redis.cacheLockAcquire(
        this.lockKey(key),
        `${this.prefix}fence:${key}`,
        owner,
        Math.ceil(ttlMs),
      ),
    );
    if (!token) return undefined;
    return new Handle(
      key,
      owner,
      Number(token),
      ttlMs,
      async (h, ms) =>
        (await this.call(key, () =>
          this.redis.cacheLockExtend(this.lockKey(key), h.owner, Math.ceil(ms)),
        )) === 1,
    );
  }

  async release(handle: LockHandle): Promise<boolean> {
    const h = handle as Handle;
    h.done();
    return (
      (await this.call(h.key, () => this.redis.cacheLockRelease(this.lockKey(h.key), h.owner))) ===
      1
    );
  }

  private lockKey(key: string): string {
    return `${this.prefix}lock:${key}`;
  }

  private async call<T>(key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), this.timeoutMs, `no answer within ${this.timeoutMs} ms`);
    } catch (error) {
      throw new LockUnavailableError(
        `lock "${key}": Redis unavailable: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
}

/** {@link LockService} inside one process (store 'memory'). */
export class MemoryLockService extends LockService {
  private readonly held = new Map<string, { owner: string; expiresAt: number }>();
  private readonly fences = new Map<string, number>();

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    const now = Date.now();
    const current = this.held.get(key);
    if (current && current.expiresAt > now) return undefined;
    const owner = randomUUID();
    this.held.set(key, { owner, expiresAt: now + ttlMs });
    const token = (this.fences.get(key) ?? 0) + 1;
    this.fences.set(key, token);
    return new Handle(key, owner, token, ttlMs, async (h, ms) => {
      const c = this.held.get(key);
      if (!c || c.owner !== h.owner || c.expiresAt <= Date.now()) return false;
      c.expiresAt = Date.now() + ms;
      return true;
    });
  }

  async release(handle: LockHandle): Promise<boolean> {
    const h = handle as Handle;
    h.done();
    const c = this.held.get(h.key);
    if (!c || c.owner !== h.owner) return false;
    this.held.delete(h.key);
    return true;
  }
}
