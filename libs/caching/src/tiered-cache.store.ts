import { randomBytes } from 'node:crypto';
import type { Keyv } from 'keyv';
import {
  CacheStore,
  type CacheSetOptions,
  type GetOrSetOptions,
  type WrapOptions,
} from './cache-store.js';
import type { ResolvedCachingOptions } from './caching.options.js';
import { CacheSerializationError } from './errors.js';
import type { InvalidationBus, InvalidationMessage } from './invalidation/invalidation-bus.js';
import { normalizeKey } from './keys.js';
import { LruCache } from './l1/lru-cache.js';
import type { LockService } from './lock/lock.service.js';
import type { CacheMetrics, CacheResult } from './metrics/cache.metrics.js';
import type { CacheSerializer } from './serialization/cache-serializer.js';
import type { FailOpenStore } from './stores/fail-open.store.js';

/** What is stored in the shared tier: the value, when it stops being fresh, its tag versions. */
interface Envelope {
  v: unknown;
  /** Fresh until (epoch ms). */
  f: number;
  /** [tag, version] pairs captured before the value was loaded. */
  t?: Array<[string, string]>;
}

interface L1Entry {
  v: unknown;
  f: number;
  tags?: string[];
}

interface Flight {
  promise: Promise<unknown>;
  tags: readonly string[];
  /** An invalidation touched the key while loading: do not store the (possibly old) result. */
  stale: boolean;
  /** Served a stale value: refresh once this flight has ended. */
  revalidate?: () => void;
}

/** How a logger is called (pino-compatible). */
export interface CacheLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything a {@link TieredCacheStore} works with (built by `CachingModule`). */
export interface TieredCacheDeps {
  options: ResolvedCachingOptions;
  /** The shared tier (Keyv over the memory or Redis store, behind {@link FailOpenStore}). */
  keyv: Keyv;
  store: FailOpenStore;
  bus: InvalidationBus;
  lock: LockService;
  serializer: CacheSerializer;
  metrics: CacheMetrics;
  logger: CacheLogger;
  /** Publishes on the invalidation channel (undefined: memory store, nothing to tell). */
  publish?: (channel: string, payload: string) => Promise<unknown>;
}

const FAILED = Symbol('failed');
const MAX_PENDING = 10_000;

/**
 * The `CacheStore` implementation: an optional in-process L1 (LRU of live objects) over the
 * shared tier (Keyv + memory or Redis), with single-flight, stale-while-revalidate, grace, tags by
 * version, cross-instance L1 invalidation and fail-open behaviour when the shared tier is down.
 */
export class TieredCacheStore extends CacheStore {
  private readonly o: ResolvedCachingOptions;
  private readonly l1?: LruCache<L1Entry>;
  private readonly tagIndex = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  private readonly pendingKeys = new Set<string>();
  private readonly pendingTags = new Set<string>();
  private readonly detach: Array<() => void> = [];

  constructor(private readonly deps: TieredCacheDeps) {
    super();
    this.o = deps.options;
    if (this.o.l1) {
      this.l1 = new LruCache<L1Entry>(this.o.l1.maxEntries, (k, e) => this.unindex(k, e));
    }
    this.detach.push(deps.bus.on((m, remote) => (remote ? this.onRemote(m) : undefined)));
  }

  /** Entries in L1 now. */
  get l1Size(): number {
    return this.l1?.size ?? 0;
  }

  /** Listens to invalidations received from other instances (tests, diagnostics). */
  onRemoteInvalidation(listener: (message: InvalidationMessage) => void): () => void {
    return this.deps.bus.on((m, remote) => (remote ? listener(m) : undefined));
  }

  /** Invalidations the shared tier missed while down, replayed when it is back (ms bounded by count). */
  get pendingInvalidations(): number {
    return this.pendingKeys.size + this.pendingTags.size;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const k = this.normalize(key);
    const now = Date.now();
    const local = this.l1?.get(k, now);
    if (local && local.f > now) {
      this.deps.metrics.count('hit');
      return local.v as T;
    }
    const env = await this.readL2(k);
    if (env === FAILED) {
      this.deps.metrics.count('error');
      return undefined;
    }
    if (!env || env.f <= Date.now()) {
      this.deps.metrics.count('miss');
      return undefined;
    }
    this.deps.metrics.count('hit');
    this.remember(k, env);
    return env.v as T;
  }

  async set<T>(key: string, value: T, options: CacheSetOptions = {}): Promise<void> {
    const k = this.normalize(key);
    if (value === undefined) throw new CacheSerializationError(key, 'the value is undefined');
    const ttlMs = options.ttlMs ?? this.o.ttlMs;
    const tags = options.tags ?? [];
    const pairs = tags.length ? await this.versionsFor(tags) : [];
    const env: Envelope = { v: value, f: Date.now() + ttlMs };
    if (pairs?.length) env.t = pairs;
    const payload = this.encode(key, env);
    this.dropLocal(k);
    if (pairs) {
      const ok = await this.writeL2(k, payload, ttlMs + this.window(options));
      if (!ok) this.pend([k], []);
    } else this.pend([k], []);
    await this.announce({ keys: [k] });
  }

  async delete(key: string | readonly string[]): Promise<void> {
    const ks = (typeof key === 'string' ? [key] : [...key]).map((x) => this.normalize(x));
    if (ks.length === 0) return;
    for (const k of ks) this.dropLocal(k);
    const started = performance.now();
    try {
      await this.deps.keyv.deleteMany(ks.map((k) => this.entryKey(k)));
      this.deps.metrics.observe('delete', 'l2', started);
    } catch {
      this.pend(ks, []);
    }
    await this.announce({ keys: ks });
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    this.dropTagsLocal(tags);
    const ok = await this.bumpTags(tags);
    if (!ok) this.pend([], tags);
    await this.announce({ tags: [...tags] });
  }

  getOrSet<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions = {},
  ): Promise<T> {
    const k = this.normalize(key);
    const now = Date.now();
    const local = this.l1?.get(k, now);
    if (local) {
      if (local.f > now) {
        this.deps.metrics.count('hit');
        return Promise.resolve(local.v as T);
      }
      if (now < local.f + (options.staleWhileRevalidateMs ?? this.o.staleWhileRevalidateMs)) {
        this.deps.metrics.count('stale');
        this.revalidate(k, key, loader, options);
        return Promise.resolve(local.v as T);
      }
    }
    const flying = this.flights.get(k);
    if (flying) {
      // Joined a load in progress: served without calling the source.
      this.deps.metrics.count('hit');
      return flying.promise as Promise<T>;
    }
    return this.fly(k, key, loader, options, false) as Promise<T>;
  }

  wrap<A extends unknown[], R>(
    fn: (...args: A) => Promise<R> | R,
    options: WrapOptions<A>,
  ): (...args: A) => Promise<R> {
    return (...args: A) =>
      this.getOrSet(options.key(...args), () => fn(...args), {
        ...options,
        tags: typeof options.tags === 'function' ? options.tags(...args) : options.tags,
      });
  }

  /** Stops listening (module shutdown). */
  close(): void {
    for (const d of this.detach) d();
    this.l1?.clear();
  }

  /** Replays invalidations that failed while the shared tier was down (called when it is back). */
  async replayPending(): Promise<void> {
    if (this.pendingKeys.size === 0 && this.pendingTags.size === 0) return;
    const keys = [...this.pendingKeys];
    const tags = [...this.pendingTags];
    this.pendingKeys.clear();
    this.pendingTags.clear();
    try {
      if (keys.length) await this.deps.keyv.deleteMany(keys.map((k) => this.entryKey(k)));
      if (tags.length && !(await this.bumpTags(tags))) throw new Error('tags not bumped');
      await this.announce({ keys, tags });
      this.deps.logger.info(
        { keys: keys.length, tags: tags.length },
        'cache: replayed the invalidations made while Redis was unavailable',
      );
    } catch {
      this.pend(keys, tags);
    }
  }

  // --- internals -------------------------------------------------------------------------------

  private fly(
    k: string,
    key: string,
    loader: () => unknown,
    options: GetOrSetOptions,
    force: boolean,
  ): Promise<unknown> {
    const flight: Flight = { promise: undefined as never, tags: options.tags ?? [], stale: false };
    flight.promise = this.fill(k, key, loader, options, force, flight).finally(() => {
      if (this.flights.get(k) === flight) this.flights.delete(k);
      flight.revalidate?.();
    });
    this.flights.set(k, flight);
    return flight.promise;
  }

  private revalidate(
    k: string,
    key: string,
    loader: () => unknown,
    options: GetOrSetOptions,
  ): void {
    if (this.flights.has(k)) return;
    this.fly(k, key, loader, options, true).catch((error: Error) =>
      this.deps.logger.warn(
        { key, err: error.message },
        'cache: background refresh failed; still serving stale',
      ),
    );
  }

  private async fill(
    k: string,
    key: string,
    loader: () => unknown,
    options: GetOrSetOptions,
    force: boolean,
    flight: Flight,
  ): Promise<unknown> {
    const tags = options.tags ?? [];
    // Tag versions are read before loading: an invalidation that lands while we load then makes
    // our (possibly old) value a miss instead of a fresh-looking entry.
    const versions = tags.length ? this.readTagVersions(tags) : undefined;
    let env: Envelope | undefined | typeof FAILED;
    if (force) {
      env = undefined;
    } else {
      env = await this.readL2(k, versions);
      const now = Date.now();
      if (env !== FAILED && env) {
        if (env.f > now) {
          this.deps.metrics.count('hit');
          this.remember(k, env);
          return env.v;
        }
        if (now < env.f + (options.staleWhileRevalidateMs ?? this.o.staleWhileRevalidateMs)) {
          this.deps.metrics.count('stale');
          this.remember(k, env);
          // This flight ends here; refresh in a new one.
          flight.revalidate = () => this.revalidate(k, key, loader, options);
          return env.v;
        }
      }
    }
    const distributed =
      (options.singleFlight ?? this.o.singleFlight) === 'distributed' && env !== FAILED;
    let handle: Awaited<ReturnType<LockService['tryAcquire']>>;
    if (distributed) {
      try {
        handle = await this.deps.lock.tryAcquire(`sf:${k}`, this.o.distributed.lockTtlMs);
        if (!handle) {
          const fresh = await this.waitForValue(k);
          if (fresh) {
            this.deps.metrics.count('hit');
            this.remember(k, fresh);
            return fresh.v;
          }
        }
      } catch {
        handle = undefined; // Redis unavailable: load without the lock (fail-open).
      }
    }
    try {
      const result: CacheResult = env === FAILED ? 'error' : 'miss';
      let value: unknown;
      const started = performance.now();
      try {
        value = await loader();
      } catch (error) {
        const stale = env !== FAILED ? env : undefined;
        if (stale && Date.now() < stale.f + (options.graceMs ?? this.o.graceMs)) {
          this.deps.metrics.count('stale');
          this.deps.logger.warn(
            { key, err: (error as Error).message },
            'cache: loader failed; serving the stale value (grace)',
          );
          return stale.v;
        }
        this.deps.metrics.count(result);
        throw error;
      }
      this.deps.metrics.observe('load', 'loader', started);
      this.deps.metrics.count(result);
      if (value === undefined) return value;
      const ttlMs = options.ttlMs ?? this.o.ttlMs;
      const envelope: Envelope = { v: value, f: Date.now() + ttlMs };
      const pairs = versions ? await this.ensureVersions(tags, await versions) : [];
      if (pairs?.length) envelope.t = pairs;
      const payload = this.encode(key, envelope); // throws for values that cannot be cached
      if (flight.stale) return value;
      if (this.l1) this.remember(k, envelope);
      if (!pairs || env === FAILED) return value; // shared tier down: skip the write
      const write = this.writeL2(k, payload, ttlMs + this.window(options));
      // Others wait for this value in the distributed case; otherwise do not make the caller wait.
      if (handle) await write;
      return value;
    } finally {
      if (handle) await this.deps.lock.release(handle).catch(() => false);
    }
  }

  private async waitForValue(k: string): Promise<Envelope | undefined> {
    const deadline = Date.now() + this.o.distributed.waitMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, this.o.distributed.pollMs));
      const env = await this.readL2(k);
      if (env === FAILED) return undefined;
      if (env && env.f > Date.now()) return env;
    }
    return undefined;
  }

  private async readL2(
    k: string,
    prefetched?: Promise<Map<string, string | undefined> | undefined>,
  ): Promise<Envelope | undefined | typeof FAILED> {
    const started = performance.now();
    let raw: unknown;
    try {
      // The store itself, not Keyv (a pass-through here): one frame less per read, and concurrent
      // reads are batched into one MGET there.
      raw = await this.deps.store.get(this.entryKey(k));
    } catch {
      return FAILED;
    }
    this.deps.metrics.observe('get', 'l2', started);
    if (typeof raw !== 'string') return undefined;
    let env: Envelope;
    try {
      env = this.deps.serializer.deserialize(raw) as Envelope;
    } catch {
      return undefined; // written by an incompatible version: a miss, overwritten on the next fill
    }
    if (!env || typeof env.f !== 'number') return undefined;
    if (env.t?.length) {
      const names = env.t.map(([t]) => t);
      let current = prefetched ? await prefetched : undefined;
      if (!current || names.some((n) => !current!.has(n)))
        current = await this.readTagVersions(names);
      if (!current) return FAILED;
      for (const [tag, version] of env.t) if (current.get(tag) !== version) return undefined;
    }
    return env;
  }

  /** Current versions of tags (undefined: the shared tier failed). */
  private async readTagVersions(
    tags: readonly string[],
  ): Promise<Map<string, string | undefined> | undefined> {
    try {
      // The store, not Keyv (a pass-through here), as in readL2: one layer less on every read.
      const values = (await this.deps.store.getMany(tags.map((t) => this.tagKey(t)))) as unknown[];
      return new Map(
        tags.map((t, i) => [t, typeof values[i] === 'string' ? (values[i] as string) : undefined]),
      );
    } catch {
      return undefined;
    }
  }

  /** [tag, version] pairs for a write; tags without a version get one. Undefined: shared tier down. */
  private async versionsFor(tags: readonly string[]): Promise<Array<[string, string]> | undefined> {
    return this.ensureVersions(tags, await this.readTagVersions(tags));
  }

  private async ensureVersions(
    tags: readonly string[],
    current: Map<string, string | undefined> | undefined,
  ): Promise<Array<[string, string]> | undefined> {
    if (!current) return undefined;
    const pairs: Array<[string, string]> = [];
    const created: Array<{ key: string; value: string; ttl: number }> = [];
    for (const tag of tags) {
      let version = current.get(tag);
      if (version === undefined) {
        // A new random version, never a counter from 0: a tag key that expired and comes back
        // cannot make old entries valid again.
        version = newVersion();
        created.push({ key: this.tagKey(tag), value: version, ttl: this.o.tagTtlMs });
      }
      pairs.push([tag, version]);
    }
    if (created.length) {
      try {
        await this.deps.keyv.setMany(created);
      } catch {
        return undefined;
      }
    }
    return pairs;
  }

  private async bumpTags(tags: readonly string[]): Promise<boolean> {
    const started = performance.now();
    try {
      const results = await this.deps.keyv.setMany(
        tags.map((t) => ({ key: this.tagKey(t), value: newVersion(), ttl: this.o.tagTtlMs })),
      );
      this.deps.metrics.observe('invalidate', 'l2', started);
      return !(results as unknown[]).includes(false);
    } catch {
      return false;
    }
  }

  private async writeL2(k: string, payload: string, ttlMs: number): Promise<boolean> {
    const started = performance.now();
    try {
      await this.deps.keyv.set(this.entryKey(k), payload, ttlMs);
      this.deps.metrics.observe('set', 'l2', started);
      return true;
    } catch {
      return false;
    }
  }

  private encode(key: string, env: Envelope): string {
    return this.deps.serializer.serialize(key, env);
  }

  private remember(k: string, env: Envelope): void {
    if (!this.l1) return;
    const tags = env.t?.map(([t]) => t);
    const entry: L1Entry = tags?.length ? { v: env.v, f: env.f, tags } : { v: env.v, f: env.f };
    const l1 = this.o.l1 as { ttlMs: number };
    const window = Math.max(this.o.staleWhileRevalidateMs, this.o.graceMs);
    const life = Math.min(l1.ttlMs, env.f + window - Date.now());
    if (life <= 0) return;
    this.l1.set(k, entry, life);
    if (tags) {
      for (const t of tags) {
        let set = this.tagIndex.get(t);
        if (!set) this.tagIndex.set(t, (set = new Set()));
        set.add(k);
      }
    }
  }

  private unindex(k: string, e: L1Entry): void {
    if (!e.tags) return;
    for (const t of e.tags) {
      const set = this.tagIndex.get(t);
      if (!set) continue;
      set.delete(k);
      if (set.size === 0) this.tagIndex.delete(t);
    }
  }

  private dropLocal(k: string): void {
    this.l1?.delete(k);
    const f = this.flights.get(k);
    if (f) f.stale = true;
  }

  private dropTagsLocal(tags: readonly string[]): void {
    for (const t of tags) {
      const keys = this.tagIndex.get(t);
      // Deleting the current element while iterating a Set is safe.
      if (keys) for (const k of keys) this.l1?.delete(k);
    }
    for (const f of this.flights.values()) if (f.tags.some((t) => tags.includes(t))) f.stale = true;
  }

  private onRemote(m: InvalidationMessage): void {
    if (m.all) {
      this.l1?.clear();
      for (const f of this.flights.values()) f.stale = true;
      return;
    }
    for (const k of m.keys ?? []) this.dropLocal(k);
    if (m.tags?.length) this.dropTagsLocal(m.tags);
  }

  private async announce(message: InvalidationMessage): Promise<void> {
    const publish = this.deps.publish;
    if (!publish) return;
    await this.deps.bus.publish(message, publish).catch(() => undefined);
  }

  private pend(keys: readonly string[], tags: readonly string[]): void {
    for (const k of keys) if (this.pendingKeys.size < MAX_PENDING) this.pendingKeys.add(k);
    for (const t of tags) if (this.pendingTags.size < MAX_PENDING) this.pendingTags.add(t);
  }

  private window(options: CacheSetOptions): number {
    return Math.max(
      options.staleWhileRevalidateMs ?? this.o.staleWhileRevalidateMs,
      options.graceMs ?? this.o.graceMs,
    );
  }

  private normalize(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new TypeError(`cache key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    return normalizeKey(key, this.o.maxKeyLength);
  }

  private entryKey(k: string): string {
    return `${this.o.keyPrefix}e:${k}`;
  }

  private tagKey(tag: string): string {
    return `${this.o.keyPrefix}t:${tag}`;
  }
}

function newVersion(): string {
  return randomBytes(6).toString('base64url');
}
