import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { CacheTimeoutError, CircuitOpenError } from '../errors.js';
import { CircuitBreaker, type CircuitOptions } from './circuit-breaker.js';

/** What {@link FailOpenStore} reports (for logs and metrics). */
export interface FailOpenEvents {
  /** An operation failed (error, timeout) or was skipped by the open circuit. */
  onFailure?(op: string, error: Error): void;
  /** The circuit opened or closed. */
  onCircuit?(state: 'open' | 'closed'): void;
}

/** A `get` waiting for its batch. */
interface Waiter {
  key: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Most keys in one batch (one `MGET`); more concurrent gets go in further batches. */
export const MAX_GET_BATCH = 256;

/**
 * Bounds every operation of the store it wraps: an operation that does not settle within
 * `timeoutMs` rejects with {@link CacheTimeoutError} (the only thing that bounds a hung Redis:
 * neither Keyv nor cache-manager has a timeout), and after repeated failures a circuit makes
 * operations reject at once with {@link CircuitOpenError} instead of piling up on a dead server.
 * Callers turn these rejections into misses and skipped writes (fail-open).
 *
 * `get`s issued in the same tick go to the store as one batch (`getMany`: one `MGET` on Redis; a
 * lone get stays a `get`) under one timer: N concurrent reads cost one command, one write to the
 * socket and one reply instead of N of each. Each get still fails on its own terms: a timeout or
 * an error of the batch rejects every get in it and counts as one failure per get against the
 * circuit, as N separate gets would.
 */
export class FailOpenStore extends EventEmitter implements KeyvStoreAdapter {
  opts: Record<string, unknown> = { dialect: 'fail-open' };
  namespace?: string;
  readonly circuit: CircuitBreaker;
  private queue: Waiter[] = [];
  private scheduled = false;

  /**
   * @param inProcess the wrapped store lives in this process and answers without I/O (the
   *   `memory` store): nothing can hang or fail there, so operations go straight to it, without a
   *   timer, a batch or the circuit.
   */
  constructor(
    readonly inner: KeyvStoreAdapter,
    private readonly timeoutMs: number,
    circuit: CircuitOptions,
    private readonly events: FailOpenEvents = {},
    private readonly inProcess = false,
  ) {
    super();
    this.circuit = new CircuitBreaker(circuit, (s) => events.onCircuit?.(s));
    // Keyv listens for 'error' on stores; the wrapped store's errors surface as rejections.
    inner.on?.('error', () => {});
  }

  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    if (this.inProcess) return this.direct(() => this.inner.get<Value>(key));
    if (!this.circuit.allow()) return this.skipped('get');
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length >= MAX_GET_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // After the current microtasks: every get issued in this tick joins the batch.
        process.nextTick(this.onTick);
      }
    });
  }

  getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return this.guard('getMany', () =>
      this.inner.getMany
        ? this.inner.getMany<Value>(keys)
        : Promise.all(keys.map((k) => this.inner.get<Value>(k))),
    );
  }

  set(key: string, value: unknown, ttl?: number): Promise<unknown> {
    return this.guard('set', () => Promise.resolve(this.inner.set(key, value, ttl)));
  }

  delete(key: string): Promise<boolean> {
    return this.guard('delete', () => this.inner.delete(key));
  }

  deleteMany(keys: string[]): Promise<boolean> {
    return this.guard('deleteMany', () =>
      this.inner.deleteMany
        ? this.inner.deleteMany(keys)
        : Promise.all(keys.map((k) => this.inner.delete(k))).then((r) => r.some(Boolean)),
    );
  }

  has(key: string): Promise<boolean> {
    return this.guard('has', async () =>
      this.inner.has ? this.inner.has(key) : (await this.inner.get(key)) !== undefined,
    );
  }

  clear(): Promise<void> {
    return this.guard('clear', () => this.inner.clear());
  }

  async disconnect(): Promise<void> {
    await this.inner.disconnect?.();
  }

  /**
   * Runs `fn` under the timeout and the circuit. Hand-rolled rather than core's `withTimeout`:
   * it runs on every cache operation (one promise and one timer, no race), and the timeout must
   * also count against the circuit.
   */
  guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.inProcess) return this.direct(fn);
    if (!this.circuit.allow()) return this.skipped(op);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        const error = new CacheTimeoutError(op, this.timeoutMs);
        this.circuit.failure();
        this.events.onFailure?.(op, error);
        reject(error);
      }, this.timeoutMs);
      let promise: Promise<T>;
      try {
        promise = fn();
      } catch (error) {
        promise = Promise.reject(error);
      }
      promise.then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.circuit.success();
          resolve(value);
        },
        (error: Error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.circuit.failure();
          this.events.onFailure?.(op, error);
          reject(error);
        },
      );
    });
  }

  /** An operation of an in-process store: as it answers (a synchronous throw as a rejection). */
  private direct<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return fn();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private skipped<T>(op: string): Promise<T> {
    const error = new CircuitOpenError(this.circuit.retryAt);
    this.events.onFailure?.(op, error);
    return Promise.reject(error);
  }

  private readonly onTick = (): void => {
    this.scheduled = false;
    if (this.queue.length) this.flush();
  };

  /** Sends the queued gets as one batch under one timer. */
  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    let settled = false;
    const fail = (error: Error): void => {
      for (const w of batch) {
        this.circuit.failure();
        this.events.onFailure?.('get', error);
        w.reject(error);
      }
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      fail(new CacheTimeoutError('get', this.timeoutMs));
    }, this.timeoutMs);
    let promise: Promise<unknown>;
    try {
      promise =
        batch.length === 1
          ? this.inner.get(batch[0].key)
          : this.inner.getMany
            ? this.inner.getMany(batch.map((w) => w.key))
            : Promise.all(batch.map((w) => this.inner.get(w.key)));
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.circuit.success();
        if (batch.length === 1) batch[0].resolve(value);
        else {
          const values = value as unknown[];
          for (let i = 0; i < batch.length; i++) batch[i].resolve(values[i]);
        }
      },
      (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fail(error);
      },
    );
  }
}
