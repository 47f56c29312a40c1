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

/**
 * Bounds every operation of the store it wraps: an operation that does not settle within
 * `timeoutMs` rejects with {@link CacheTimeoutError} (the only thing that bounds a hung Redis:
 * neither Keyv nor cache-manager has a timeout), and after repeated failures a circuit makes
 * operations reject at once with {@link CircuitOpenError} instead of piling up on a dead server.
 * Callers turn these rejections into misses and skipped writes (fail-open).
 */
export class FailOpenStore extends EventEmitter implements KeyvStoreAdapter {
  opts: Record<string, unknown> = { dialect: 'fail-open' };
  namespace?: string;
  readonly circuit: CircuitBreaker;

  constructor(
    readonly inner: KeyvStoreAdapter,
    private readonly timeoutMs: number,
    circuit: CircuitOptions,
    private readonly events: FailOpenEvents = {},
  ) {
    super();
    this.circuit = new CircuitBreaker(circuit, (s) => events.onCircuit?.(s));
    // Keyv listens for 'error' on stores; the wrapped store's errors surface as rejections.
    inner.on?.('error', () => {});
  }

  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.guard('get', () => this.inner.get<Value>(key));
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
    if (!this.circuit.allow()) {
      const error = new CircuitOpenError(this.circuit.retryAt);
      this.events.onFailure?.(op, error);
      return Promise.reject(error);
    }
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
}
