import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis as RedisClient } from 'ioredis';
import { maskUrlPassword, withTimeout, type SecretReference } from '@infrastructure/core';
import { createRedisClient } from '@infrastructure/core/redis';
import { getLogger } from '@infrastructure/monitoring';
import {
  attemptOf,
  decodeDeadLetter,
  decodeMessage,
  encodeDeadLetter,
  encodeMessage,
  fieldsToRecord,
  parseAutoClaim,
  parseEntries,
  parsePendingCounts,
  parseStreamsReply,
  RedisKeys,
  toOutgoing,
  type DecodedMessage,
  type StreamEntry,
} from './redis.codec.js';
import { MOVE_DUE, SCHEDULE_RETRY } from './redis.scripts.js';
import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportOptions,
} from '../transport.js';

/** Knobs of the Redis transport beyond {@link TransportOptions}. */
export interface RedisTransportOptions {
  /**
   * Approximate cap of each event stream (`XADD MAXLEN ~`). Entries beyond it are trimmed even if
   * a slow group has not read them yet: size it for your longest consumer outage.
   * @default 1_000_000
   */
  maxLen?: number;
  /**
   * Idle time after which a delivery pending on another consumer (a crashed instance) is taken
   * over with `XAUTOCLAIM`. Live consumers refresh their in-flight deliveries, so a slow handler
   * is not taken over.
   * @default 30_000
   */
  claimMinIdleMs?: number;
  /** How often takeovers are attempted and in-flight deliveries refreshed (at most half of `claimMinIdleMs`). @default 10_000 */
  claimIntervalMs?: number;
  /** `XREADGROUP BLOCK` time of the consumer loops. @default 5_000 */
  blockMs?: number;
  /** Poll period of the delayed-retry sets (retries scheduled by other or crashed instances). @default 1_000 */
  delayedPollMs?: number;
  /** `ping()` gives up after this long. @default 2_000 */
  pingTimeoutMs?: number;
  /**
   * TLS of a `rediss://` URL: the CA that signed the server's certificate (`ca`: PEM, or
   * `caFile`: its path, `MESSAGING_TLS_CA_FILE`), trusted instead of Node's default CAs. The
   * certificate is always verified.
   * @default none (Node's default CAs)
   */
  tls?: { ca?: string | Buffer; caFile?: string };
  /**
   * The password from a rotating secret instead of the URL's: `{ secrets, name:
   * 'REDIS_PASSWORD' }` (the security lib's `SecretsProvider`). Every connection (commands and
   * each consumer's blocking reader) authenticates with its current value, and every
   * reconnection with the value of the moment: a rotation drops nothing, a reconnect after it is
   * not refused. A secret the provider does not have fails `connect()`.
   * @default the URL's password
   */
  password?: SecretReference;
}

type Resolved = Required<Omit<RedisTransportOptions, 'tls' | 'password'>>;

const DEFAULTS: Resolved = {
  maxLen: 1_000_000,
  claimMinIdleMs: 30_000,
  claimIntervalMs: 10_000,
  blockMs: 5_000,
  delayedPollMs: 1_000,
  pingTimeoutMs: 2_000,
};

/** Most delayed retries moved to a retry stream per script call. */
const MOVE_BATCH = 100;

interface Delivery {
  stream: string;
  id: string;
  tag: string;
  decoded: DecodedMessage;
  attempt: number;
  /** Entries of the retry stream are deleted once settled (only this group ever reads them). */
  fromRetry: boolean;
}

interface Subscription {
  type: string;
  group: string;
  handler: DeliveryHandler;
  prefetch: number;
  events: string;
  retry: string;
  delayed: string;
  /** The dedicated connection of the XREADGROUP BLOCK loop. */
  conn: RedisClient;
  /** Read and not yet handled, in read order. */
  queue: Delivery[];
  running: number;
  /** `stream id` of every delivery read and not settled (queued or running). */
  held: Set<string>;
  /** Wakes the loop when a prefetch slot frees. */
  wake?: () => void;
  /** Re-create groups and re-read own pending entries before the next read. */
  recover: boolean;
  /** The recovery running now (one at a time). */
  recovering?: Promise<void>;
  cursors: Map<string, string>;
  claimTimer?: NodeJS.Timeout;
  moveTimer?: NodeJS.Timeout;
  moveAt?: number;
}

/**
 * Redis Streams transport. Topology (prefix = namespace):
 * - `<ns>:events:<type>`: one stream per event type, capped with `MAXLEN ~`; one consumer group
 *   per group name, created at `$` (a new group does not replay history).
 * - `<ns>:retry:<type>:<group>` and `<ns>:delayed:<type>:<group>`: retries and replays of one
 *   subscription. A failed delivery is acked and its retry stored in one Lua step: into the
 *   delayed ZSET (score = due time on the Redis clock), moved atomically to the retry stream when
 *   due. Only that group reads its retry stream, so retries and replays reach one group only.
 * - `<ns>:dead-letters`: dead letters (XRANGE to list, XDEL to remove).
 *
 * Each subscription reads its event and retry streams with `XREADGROUP BLOCK` on its own
 * connection; acks go through the command connection once the pipeline decided. Deliveries left
 * pending by a dead consumer are taken over with `XAUTOCLAIM`; `attempt` comes from Redis's
 * delivery counter. Durability is Redis's: without AOF/RDB a Redis restart loses everything.
 */
export class RedisTransport implements Transport {
  readonly name = 'redis';
  private readonly log = getLogger('RedisTransport');
  private readonly keys: RedisKeys;
  private readonly settings: Resolved;
  private readonly tls: RedisTransportOptions['tls'];
  private readonly password: RedisTransportOptions['password'];
  /** This instance's consumer name in every group: `<serviceName>:<hostname>:<pid>:<random>`. */
  readonly consumer: string;
  private readonly url: string;
  private redis?: RedisClient;
  private readonly subs = new Map<string, Subscription>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly loops = new Set<Promise<void>>();
  private readonly shas = new Map<string, string>();
  private closing = false;
  private closed?: Promise<void>;
  private stopLoops!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stopLoops = resolve));

  constructor(
    private readonly options: TransportOptions,
    extra: RedisTransportOptions = {},
  ) {
    if (!options.url)
      throw new Error('RedisTransport: options.url is required (redis://host:6379)');
    this.url = options.url;
    this.keys = new RedisKeys(options.namespace);
    const { tls, password, ...rest } = extra;
    this.tls = tls;
    this.password = password;
    const settings = { ...DEFAULTS, ...rest };
    settings.claimIntervalMs = Math.min(
      settings.claimIntervalMs,
      Math.floor(settings.claimMinIdleMs / 2),
    );
    this.settings = settings;
    this.consumer = `${options.serviceName}:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  private get client(): RedisClient {
    if (!this.redis) throw new Error('RedisTransport: connect() first');
    return this.redis;
  }

  async connect(): Promise<void> {
    if (this.redis) return;
    // RESP2 (createRedisClient pins it) keeps XREADGROUP replies as [[stream, entries]]; the
    // subscribers' duplicate() inherits it. ioredis defaults otherwise: commands queue while
    // reconnecting, and no command timeout (the blocking reads must not have one).
    const redis = await createRedisClient(
      this.url,
      { lazyConnect: true, connectionName: this.connectionName('cmd') },
      {
        owner: 'RedisTransport',
        source: 'options.url (MESSAGING_URL)',
        feature: 'Redis transport',
        tls: this.tls,
        tlsSource: 'transportOptions.tls (MESSAGING_TLS_CA_FILE)',
        ...(this.password
          ? { password: this.password, passwordSource: 'transportOptions.password' }
          : {}),
      },
    );
    this.watch(redis, 'command');
    // connect() only says "Connection is closed"; the reason (ECONNREFUSED, a certificate that
    // does not verify...) arrives as an 'error' event.
    let reason: Error | undefined;
    const remember = (e: Error) => (reason ??= e);
    redis.on('error', remember);
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(
        `RedisTransport: cannot connect to ${maskUrlPassword(this.url)}: ${(reason ?? (error as Error)).message}`,
        { cause: error },
      );
    } finally {
      redis.off('error', remember);
    }
    this.redis = redis;
    this.log.info(
      { url: maskUrlPassword(this.url), namespace: this.options.namespace },
      'connected',
    );
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closing) throw new Error('RedisTransport is closed');
    if (messages.length === 0) return;
    // One MULTI: the batch is stored whole or not at all, in order; exec resolves on Redis's reply.
    const multi = this.client.multi();
    for (const m of messages) {
      multi.xadd(
        this.keys.events(m.type),
        'MAXLEN',
        '~',
        this.settings.maxLen,
        '*',
        ...encodeMessage(m),
      );
    }
    checkExec(await multi.exec(), 'publish');
  }

  async subscribe(
    type: string,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<void> {
    if (this.closing) throw new Error('RedisTransport is closed');
    const id = `${type}\n${group}`;
    if (this.subs.has(id))
      throw new Error(`RedisTransport: ${type} is already subscribed by ${group}`);
    const conn = this.client.duplicate({
      connectionName: this.connectionName('read'),
      // Reads wait for the reconnect instead of failing; a read cut by the drop is resent
      // (ioredis default), and 'ready' triggers the recovery of entries whose reply was lost.
      maxRetriesPerRequest: null,
    });
    this.watch(conn, `consumer ${type}#${group}`);
    const sub: Subscription = {
      type,
      group,
      handler,
      prefetch: Math.max(1, options.prefetch),
      events: this.keys.events(type),
      retry: this.keys.retry(type, group),
      delayed: this.keys.delayed(type, group),
      conn,
      queue: [],
      running: 0,
      held: new Set(),
      recover: false,
      cursors: new Map(),
    };
    this.subs.set(id, sub);
    try {
      await conn.connect();
      await this.ensureGroups(sub, '$');
    } catch (error) {
      this.subs.delete(id);
      conn.disconnect();
      throw error;
    }
    conn.on('ready', () => {
      if (this.closing) return;
      void this.recover(sub).catch((error: unknown) => {
        sub.recover = true;
        this.log.warn({ err: error, type, group }, 'recovery after reconnect failed; will retry');
      });
    });
    const loop = this.consume(sub);
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
    this.scheduleClaim(sub, 0);
    this.scheduleMove(sub, 0);
    this.log.debug({ type, group, consumer: this.consumer }, 'subscribed');
  }

  async deadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void> {
    await this.client.xadd(this.keys.deadLetters(), '*', ...encodeDeadLetter(letter));
  }

  async listDeadLetters(limit: number): Promise<DeadLetterRecord[]> {
    if (limit <= 0) return [];
    const reply = await this.client.call(
      'XRANGE',
      this.keys.deadLetters(),
      '-',
      '+',
      'COUNT',
      limit,
    );
    return parseEntries(reply).map(decodeDeadLetter);
  }

  async removeDeadLetters(letters: readonly DeadLetterRecord[]): Promise<void> {
    if (letters.length === 0) return;
    await this.client.xdel(this.keys.deadLetters(), ...letters.map((l) => l.id));
  }

  async redeliver(group: string, message: OutgoingMessage): Promise<void> {
    const events = this.keys.events(message.type);
    let groups: unknown;
    try {
      groups = await this.client.call('XINFO', 'GROUPS', events);
    } catch {
      groups = [];
    }
    const known = Array.isArray(groups) && groups.some((g) => fieldsToRecord(g)?.name === group);
    if (!known) throw new Error(`RedisTransport: no group "${group}" on ${message.type}`);
    await this.client.xadd(this.keys.retry(message.type, group), '*', ...encodeMessage(message, 1));
  }

  async ping(): Promise<void> {
    const redis = this.client;
    if (this.closing) throw new Error('RedisTransport is closed');
    if (redis.status !== 'ready') throw new Error(`RedisTransport: connection is ${redis.status}`);
    await withTimeout(
      redis.ping(),
      this.settings.pingTimeoutMs,
      () => `RedisTransport: no PONG within ${this.settings.pingTimeoutMs} ms`,
    );
  }

  close(): Promise<void> {
    return (this.closed ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.stopLoops();
    for (const sub of this.subs.values()) {
      clearTimeout(sub.claimTimer);
      clearTimeout(sub.moveTimer);
      sub.wake?.();
      // Cuts the blocked read; entries it may have taken stay pending and are taken over later.
      sub.conn.disconnect();
    }
    const loopsDone = Promise.allSettled(this.loops);
    await withTimeout(loopsDone, this.settings.blockMs, 'loops').catch(() => {});
    // Deliveries already read (queued or running) finish and are acked.
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
    if (!this.redis) return;
    if (this.redis.status === 'ready') {
      const goodbye = async () => {
        await Promise.allSettled([...this.subs.values()].map((sub) => this.forgetConsumer(sub)));
        await this.redis?.quit();
      };
      await withTimeout(goodbye(), this.settings.pingTimeoutMs, 'goodbye').catch(() => {});
    }
    this.redis.disconnect();
    this.log.debug({ namespace: this.options.namespace }, 'closed');
  }

  // --- consuming -------------------------------------------------------------------------------

  private async consume(sub: Subscription): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      const free = sub.prefetch - sub.held.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (sub.wake = resolve));
        sub.wake = undefined;
        continue;
      }
      try {
        if (sub.recover) {
          sub.recover = false;
          await this.recover(sub);
          continue;
        }
        // COUNT applies per stream: up to 2 × free entries may arrive; pump() still runs at most
        // `prefetch` handlers, the rest wait in `queue` (already pending on this consumer).
        const reply = await sub.conn.call(
          'XREADGROUP',
          'GROUP',
          sub.group,
          this.consumer,
          'COUNT',
          free,
          'BLOCK',
          this.settings.blockMs,
          'STREAMS',
          sub.events,
          sub.retry,
          '>',
          '>',
        );
        failures = 0;
        for (const [stream, entries] of parseStreamsReply(reply)) {
          for (const entry of entries) this.accept(sub, stream, entry, 1);
        }
      } catch (error) {
        if (this.closing) break;
        sub.recover = true;
        failures++;
        const message = (error as Error).message ?? '';
        // NOGROUP / "UNBLOCKED the stream key no longer exists": the stream vanished; re-create.
        const vanished = /NOGROUP|no longer exists/.test(message);
        if (vanished) {
          this.log.warn(
            { type: sub.type, group: sub.group },
            'stream or group vanished; re-creating',
          );
        } else if (failures === 1) {
          this.log.warn({ err: error, type: sub.type, group: sub.group }, 'read failed; retrying');
        }
        const pause = vanished && failures === 1 ? 0 : Math.min(50 * 2 ** failures, 2_000);
        await Promise.race([delay(pause), this.stopped]);
      }
    }
  }

  /** Queues a delivery read from `stream`; `deliveryCount` is Redis's counter after this read. */
  private accept(sub: Subscription, stream: string, entry: StreamEntry, deliveryCount: number) {
    const tag = `${stream} ${entry.id}`;
    // Read while closing: left pending, taken over after claimMinIdleMs.
    if (sub.held.has(tag) || this.closing) return;
    if (!entry.fields) {
      // Trimmed while pending: nothing left to deliver.
      void this.client.xack(stream, sub.group, entry.id).catch(() => undefined);
      return;
    }
    const decoded = decodeMessage(entry.fields);
    sub.held.add(tag);
    sub.queue.push({
      stream,
      id: entry.id,
      tag,
      decoded,
      attempt: attemptOf(decoded.baseAttempt, deliveryCount),
      fromRetry: stream === sub.retry,
    });
    this.pump(sub);
  }

  private pump(sub: Subscription): void {
    while (sub.running < sub.prefetch && sub.queue.length > 0) {
      const delivery = sub.queue.shift()!;
      sub.running++;
      const work = this.run(sub, delivery).finally(() => {
        sub.running--;
        sub.held.delete(delivery.tag);
        this.inFlight.delete(work);
        this.pump(sub);
        sub.wake?.();
      });
      this.inFlight.add(work);
    }
  }

  private async run(sub: Subscription, d: Delivery): Promise<void> {
    const labels = { type: sub.type, group: sub.group, id: d.id, attempt: d.attempt };
    let result: Awaited<ReturnType<DeliveryHandler>>;
    try {
      result = await sub.handler({
        body: d.decoded.body,
        headers: { ...d.decoded.headers },
        attempt: d.attempt,
      });
    } catch (error) {
      // The pipeline never throws; if it does, keep the entry pending: it is taken over later.
      this.log.error({ ...labels, err: error }, 'delivery handler threw; left pending');
      return;
    }
    try {
      if (result.outcome === 'retry') await this.scheduleRetry(sub, d, result.delayMs ?? 0);
      else await this.settle(sub, d);
    } catch (error) {
      this.log.warn({ ...labels, err: error }, 'could not ack; the delivery will be taken over');
    }
  }

  private async settle(sub: Subscription, d: Delivery): Promise<void> {
    if (!d.fromRetry) {
      await this.client.xack(d.stream, sub.group, d.id);
      return;
    }
    const multi = this.client.multi();
    multi.xack(d.stream, sub.group, d.id);
    multi.xdel(d.stream, d.id);
    checkExec(await multi.exec(), 'ack');
  }

  private async scheduleRetry(sub: Subscription, d: Delivery, delayMs: number): Promise<void> {
    const fields = encodeMessage(toOutgoing(sub.type, d.decoded), d.attempt + 1);
    const wait = Math.max(0, Math.round(delayMs));
    await this.script(
      SCHEDULE_RETRY,
      [d.stream, sub.delayed, sub.retry],
      [sub.group, d.id, wait, d.fromRetry ? '1' : '0', JSON.stringify([randomUUID(), ...fields])],
    );
    if (wait > 0) this.scheduleMove(sub, wait);
  }

  /** Creates both groups of a subscription (MKSTREAM); an existing group is left as it is. */
  private async ensureGroups(sub: Subscription, eventsStart: '$' | '0'): Promise<void> {
    for (const [stream, start] of [
      [sub.events, eventsStart],
      // The retry stream is read from its start: a replay written before the group existed counts.
      [sub.retry, '0'],
    ] as const) {
      try {
        await this.client.call('XGROUP', 'CREATE', stream, sub.group, start, 'MKSTREAM');
      } catch (error) {
        if (!/BUSYGROUP/.test((error as Error).message)) throw error;
      }
    }
  }

  /**
   * After a dropped connection or a vanished stream: re-creates missing groups (at `0`: whatever a
   * re-created stream holds was published after the loss) and takes back the entries this
   * consumer was given but never received (reply lost with the connection) or never acked.
   */
  private recover(sub: Subscription): Promise<void> {
    sub.recovering ??= (async () => {
      try {
        await this.ensureGroups(sub, '0');
        await this.recoverOwn(sub);
      } finally {
        sub.recovering = undefined;
      }
    })();
    return sub.recovering;
  }

  private async recoverOwn(sub: Subscription): Promise<void> {
    for (const stream of [sub.events, sub.retry]) {
      if (this.closing) return;
      const pending = parsePendingCounts(
        await this.client.call(
          'XPENDING',
          stream,
          sub.group,
          '-',
          '+',
          sub.prefetch * 2,
          this.consumer,
        ),
      );
      const ids = [...pending.keys()].filter((id) => !sub.held.has(`${stream} ${id}`));
      if (ids.length === 0) continue;
      const claimed = parseEntries(
        await this.client.call('XCLAIM', stream, sub.group, this.consumer, 0, ...ids),
      );
      for (const entry of claimed)
        this.accept(sub, stream, entry, (pending.get(entry.id) ?? 0) + 1);
    }
  }

  // --- takeover of dead consumers' deliveries ---------------------------------------------------

  private scheduleClaim(sub: Subscription, inMs: number): void {
    if (this.closing) return;
    sub.claimTimer = setTimeout(() => {
      void this.claim(sub)
        .catch((error: unknown) =>
          this.log.warn({ err: error, type: sub.type, group: sub.group }, 'takeover failed'),
        )
        .finally(() => this.scheduleClaim(sub, this.settings.claimIntervalMs));
    }, inMs);
    sub.claimTimer.unref();
  }

  private async claim(sub: Subscription): Promise<void> {
    for (const stream of [sub.events, sub.retry]) {
      // Refresh our own in-flight deliveries so a slow handler is never taken over.
      const mine = [...sub.held]
        .filter((tag) => tag.startsWith(`${stream} `))
        .map((tag) => tag.slice(stream.length + 1));
      if (mine.length > 0) {
        await this.client.call('XCLAIM', stream, sub.group, this.consumer, 0, ...mine, 'JUSTID');
      }
      const free = sub.prefetch - sub.held.size;
      if (free <= 0 || this.closing) continue;
      const { cursor, entries } = parseAutoClaim(
        await this.client.call(
          'XAUTOCLAIM',
          stream,
          sub.group,
          this.consumer,
          this.settings.claimMinIdleMs,
          sub.cursors.get(stream) ?? '0-0',
          'COUNT',
          free,
        ),
      );
      sub.cursors.set(stream, cursor);
      const live = entries.filter((e) => !sub.held.has(`${stream} ${e.id}`));
      if (live.length === 0) continue;
      // XAUTOCLAIM does not return delivery counts: read them for the attempt number.
      const pipeline = this.client.pipeline();
      for (const e of live) pipeline.call('XPENDING', stream, sub.group, e.id, e.id, 1);
      const counts = new Map<string, number>();
      for (const [, reply] of (await pipeline.exec()) ?? []) {
        for (const [id, count] of parsePendingCounts(reply)) counts.set(id, count);
      }
      this.log.warn(
        { type: sub.type, group: sub.group, count: live.length },
        'took over deliveries of an unresponsive consumer',
      );
      for (const entry of live) this.accept(sub, stream, entry, counts.get(entry.id) ?? 1);
    }
  }

  // --- delayed retries --------------------------------------------------------------------------

  /** Runs the mover of `sub` in `inMs` (or sooner if it is already due sooner). */
  private scheduleMove(sub: Subscription, inMs: number): void {
    if (this.closing) return;
    const at = Date.now() + inMs;
    if (sub.moveTimer && sub.moveAt !== undefined && sub.moveAt <= at) return;
    clearTimeout(sub.moveTimer);
    sub.moveAt = at;
    sub.moveTimer = setTimeout(() => {
      sub.moveTimer = undefined;
      sub.moveAt = undefined;
      void this.moveDue(sub).then(
        (next) => this.scheduleMove(sub, next),
        (error: unknown) => {
          this.log.warn({ err: error, type: sub.type, group: sub.group }, 'moving retries failed');
          this.scheduleMove(sub, this.settings.delayedPollMs);
        },
      );
    }, inMs);
    sub.moveTimer.unref();
  }

  /** Moves due retries into the retry stream; returns when to look again. */
  private async moveDue(sub: Subscription): Promise<number> {
    for (;;) {
      const reply = (await this.script(MOVE_DUE, [sub.delayed, sub.retry], [MOVE_BATCH])) as [
        number,
        number,
      ];
      const [moved, nextInMs] = reply;
      if (moved >= MOVE_BATCH) continue;
      const poll = this.settings.delayedPollMs;
      return nextInMs >= 0 ? Math.min(nextInMs, poll) : poll;
    }
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** EVALSHA, loading the script on NOSCRIPT (after a Redis restart or SCRIPT FLUSH). */
  private async script(lua: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    let sha = this.shas.get(lua);
    if (!sha) this.shas.set(lua, (sha = createHash('sha1').update(lua).digest('hex')));
    try {
      return await this.client.call('EVALSHA', sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!/NOSCRIPT/.test((error as Error).message)) throw error;
      return this.client.call('EVAL', lua, keys.length, ...keys, ...args);
    }
  }

  /** Drops this instance's consumer from a group when it holds nothing (no unbounded consumer list). */
  private async forgetConsumer(sub: Subscription): Promise<void> {
    for (const stream of [sub.events, sub.retry]) {
      const pending = await this.client.call(
        'XPENDING',
        stream,
        sub.group,
        '-',
        '+',
        1,
        this.consumer,
      );
      if (Array.isArray(pending) && pending.length === 0) {
        await this.client.call('XGROUP', 'DELCONSUMER', stream, sub.group, this.consumer);
      }
    }
  }

  private connectionName(role: string): string {
    return `${this.options.namespace}:${role}:${this.consumer}`.replace(/[^\w.:-]/g, '_');
  }

  /** Logs connection trouble once per outage (ioredis reconnects on its own). */
  private watch(redis: RedisClient, role: string): void {
    let down = false;
    redis.on('error', (error: Error) => {
      if (this.closing) return;
      if (!down) this.log.warn({ err: error, role }, 'Redis connection error; reconnecting');
      down = true;
    });
    redis.on('ready', () => {
      if (down) this.log.info({ role }, 'Redis connection restored');
      down = false;
    });
  }
}

function checkExec(results: [Error | null, unknown][] | null, what: string): void {
  if (!results) throw new Error(`RedisTransport: ${what} transaction aborted`);
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0]!;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Creates the Redis Streams transport (`transport: 'redis'`); connects in `connect()`.
 * Construct {@link RedisTransport} yourself to pass {@link RedisTransportOptions}.
 */
export async function createRedisTransport(
  options: TransportOptions,
  extra: RedisTransportOptions = {},
): Promise<Transport> {
  return new RedisTransport(options, extra);
}
