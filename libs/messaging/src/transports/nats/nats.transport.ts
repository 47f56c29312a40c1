import { randomUUID } from 'node:crypto';
import type * as Jetstream from '@nats-io/jetstream';
import type {
  ConsumerConfig,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  MsgRequest,
  StoredMsg,
} from '@nats-io/jetstream';
import type * as NatsNode from '@nats-io/transport-node';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { maskUrlPassword, withTimeout, loadDriver } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';
import { MessagingConfigError } from '../../errors.js';
import {
  consumerName,
  decodeHeaderValue,
  decodeToken,
  encodeHeaderValue,
  encodeToken,
  typeFromSubject,
  typeSubject,
} from './nats.subjects.js';
import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportOptions,
} from '../transport.js';

/** Knobs of the NATS JetStream transport beyond {@link TransportOptions}. */
export interface NatsTransportOptions {
  /** Time the server waits for an ack before redelivering (extended while a handler runs). @default 30000 */
  ackWaitMs?: number;
  /** Window in which a repeated `x-message-id` is dropped by the stream. @default 120000 */
  duplicateWindowMs?: number;
  /** Storage of the streams. @default 'file' */
  storage?: 'file' | 'memory';
  /** Stream replicas (clustered servers only). @default 1 */
  replicas?: number;
  /** Age after which unconsumed events are dropped; 0 keeps them until every group acked. @default 0 */
  maxAgeMs?: number;
  /** Bound of one JetStream publish acknowledgement. @default 5000 */
  publishTimeoutMs?: number;
  /** Bound of `ping()`. @default 2000 */
  pingTimeoutMs?: number;
  /** Time `close()` gives buffered acks to reach the server. @default 5000 */
  closeFlushTimeoutMs?: number;
}

type JetstreamModule = typeof Jetstream;
type NatsModule = typeof NatsNode;

const DEFAULTS: Required<NatsTransportOptions> = {
  ackWaitMs: 30_000,
  duplicateWindowMs: 120_000,
  storage: 'file',
  replicas: 1,
  maxAgeMs: 0,
  publishTimeoutMs: 5_000,
  pingTimeoutMs: 2_000,
  closeFlushTimeoutMs: 5_000,
};

/** Headers NATS sets itself (`Nats-Msg-Id`...): not part of the message's own headers. */
const NATS_HEADER = /^nats-/i;
const PUBLISH_WINDOW = 256;

interface Subscription {
  type: string;
  group: string;
  handler: DeliveryHandler;
  prefetch: number;
  /** Handlers running now (shared by the event and the redelivery consumer). */
  active: number;
  waiting: Array<() => void>;
}

interface Pump {
  wake?: () => void;
}

const ms = (n: number) => n * 1_000_000;

/**
 * How long one pull waits for messages. It bounds how long `close()` waits for the pull under way
 * to end, and an idle consumer asks the server again this often.
 */
export const PULL_EXPIRES_MS = 1_000;

/**
 * NATS JetStream transport.
 *
 * Topology (see the lib README): one stream `<namespace>` on `<namespace>.>` with interest
 * retention; events on `<namespace>.ev.<type>`; per (group, type) a durable pull consumer on that
 * subject and a second one on `<namespace>.rd.<group>.<type>`, the subject `redeliver` publishes
 * to (one `filter_subject` per consumer on server 2.9). Retries are `nak(delay)`: the server keeps
 * the message and redelivers it after the delay with a higher delivery count, which is the
 * attempt. Dead letters live in the stream `<namespace>-dlq` on
 * `<namespace>-dlq.<group>.<type>`, read by sequence and deleted by sequence.
 */
export class NatsTransport implements Transport {
  readonly name = 'nats';
  private readonly log = getLogger('NatsTransport');
  private readonly settings: Required<NatsTransportOptions>;
  private readonly stream: string;
  private readonly dlqStream: string;
  private nats?: NatsModule;
  private jsmod?: JetstreamModule;
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  private connected = false;
  private closing = false;
  private closed?: Promise<void>;
  private readonly pumps = new Set<Pump>();
  private readonly loops = new Set<Promise<void>>();
  private readonly inFlight = new Map<Promise<void>, JsMsg>();
  private readonly knownConsumers = new Set<string>();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly options: TransportOptions,
    settings: NatsTransportOptions = {},
  ) {
    if (!options.url) {
      throw new MessagingConfigError('MessagingModule: options.url is required for transport nats');
    }
    this.settings = { ...DEFAULTS, ...settings };
    this.stream = options.namespace;
    this.dlqStream = `${options.namespace}-dlq`;
  }

  private get safeUrl(): string {
    return maskUrlPassword(this.options.url ?? '');
  }

  async connect(): Promise<void> {
    if (this.nc) return;
    this.nats = await loadDriver<NatsModule>('@nats-io/transport-node', 'nats transport');
    this.jsmod = await loadDriver<JetstreamModule>('@nats-io/jetstream', 'nats transport');
    const { servers, user, pass, token } = parseNatsUrl(this.options.url!);
    this.nc = await this.nats.connect({
      servers,
      ...(user !== undefined ? { user, pass: pass ?? '' } : {}),
      ...(token !== undefined ? { token } : {}),
      name: `${this.options.serviceName}@${this.options.namespace}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      pingInterval: 10_000,
      maxPingOut: 2,
    });
    this.connected = true;
    void this.watchStatus(this.nc);
    this.jsm = await this.jsmod.jetstreamManager(this.nc, {
      timeout: this.settings.publishTimeoutMs,
    });
    this.js = this.jsm.jetstream();
    await this.ensureStreams();
    // Long handlers keep their messages: tell the server they are still being worked on.
    this.heartbeat = setInterval(
      () => {
        for (const msg of this.inFlight.values()) msg.working();
      },
      Math.max(1_000, Math.floor(this.settings.ackWaitMs / 3)),
    );
    this.heartbeat.unref();
    this.log.info({ url: this.safeUrl, stream: this.stream }, 'connected to NATS JetStream');
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        if (!this.closing)
          this.log.warn({ url: this.safeUrl }, 'NATS connection lost; reconnecting');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.log.info({ url: this.safeUrl }, 'NATS connection re-established');
      }
    }
  }

  private async ensureStreams(): Promise<void> {
    const { RetentionPolicy, StorageType } = this.jsmod!;
    const storage = this.settings.storage === 'memory' ? StorageType.Memory : StorageType.File;
    await this.ensureStream({
      name: this.stream,
      subjects: [`${this.stream}.>`],
      retention: RetentionPolicy.Interest,
      storage,
      num_replicas: this.settings.replicas,
      max_age: ms(this.settings.maxAgeMs),
      duplicate_window: ms(this.settings.duplicateWindowMs),
    });
    await this.ensureStream({
      name: this.dlqStream,
      subjects: [`${this.dlqStream}.>`],
      retention: RetentionPolicy.Limits,
      storage,
      num_replicas: this.settings.replicas,
    });
  }

  private async ensureStream(config: Partial<Jetstream.StreamConfig> & { name: string }) {
    try {
      await this.jsm!.streams.info(config.name);
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await this.jsm!.streams.add(config);
    } catch (error) {
      // Another instance created it in between: fine as long as it exists now.
      await this.jsm!.streams.info(config.name).catch(() => {
        throw error;
      });
    }
  }

  /** Creates the durable consumer, or updates its prefetch and ack wait when they changed. */
  private async ensureConsumer(durable: string, filter: string, prefetch?: number): Promise<void> {
    const { AckPolicy, DeliverPolicy } = this.jsmod!;
    const wanted: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ms(this.settings.ackWaitMs),
      deliver_policy: DeliverPolicy.New,
      filter_subject: filter,
      max_deliver: -1,
      ...(prefetch ? { max_ack_pending: prefetch } : {}),
    };
    try {
      const info = await this.jsm!.consumers.info(this.stream, durable);
      const c = info.config;
      if (
        (prefetch && c.max_ack_pending !== prefetch) ||
        c.ack_wait !== ms(this.settings.ackWaitMs)
      ) {
        await this.jsm!.consumers.update(this.stream, durable, {
          ack_wait: ms(this.settings.ackWaitMs),
          ...(prefetch ? { max_ack_pending: prefetch } : {}),
        });
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.jsm!.consumers.add(this.stream, wanted);
      } catch (addError) {
        await this.jsm!.consumers.info(this.stream, durable).catch(() => {
          throw addError;
        });
      }
    }
    this.knownConsumers.add(durable);
  }

  private eventSubject(type: string): string {
    return `${this.stream}.ev.${typeSubject(type)}`;
  }

  private redeliverySubject(group: string, type: string): string {
    return `${this.stream}.rd.${encodeToken(group)}.${typeSubject(type)}`;
  }

  private client(): JetStreamClient {
    if (this.closing || !this.js) throw new Error('NatsTransport is not connected');
    return this.js;
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const js = this.client();
    // Sent in order on one connection (the stream keeps that order), acks awaited in windows.
    for (let i = 0; i < messages.length; i += PUBLISH_WINDOW) {
      await Promise.all(
        messages.slice(i, i + PUBLISH_WINDOW).map((m) => {
          const id = m.headers['x-message-id'];
          return js.publish(this.eventSubject(m.type), m.body, {
            headers: this.toHeaders(m.headers),
            timeout: this.settings.publishTimeoutMs,
            ...(id ? { msgID: id } : {}),
          });
        }),
      );
    }
  }

  async subscribe(
    type: string,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<void> {
    this.client();
    const sub: Subscription = {
      type,
      group,
      handler,
      prefetch: Math.max(1, options.prefetch),
      active: 0,
      waiting: [],
    };
    const main = consumerName(group, type);
    const replay = consumerName(group, type, 'rd');
    await this.ensureConsumer(main, this.eventSubject(type), sub.prefetch);
    await this.ensureConsumer(replay, this.redeliverySubject(group, type), sub.prefetch);
    this.startPump(sub, main, this.eventSubject(type));
    this.startPump(sub, replay, this.redeliverySubject(group, type));
  }

  private startPump(sub: Subscription, durable: string, filter: string): void {
    const pump: Pump = {};
    this.pumps.add(pump);
    const loop = this.pump(sub, pump, durable, filter).finally(() => {
      this.pumps.delete(pump);
      this.loops.delete(loop);
    });
    this.loops.add(loop);
  }

  /**
   * Pulls from one durable consumer for as long as the transport is open, one bounded pull
   * (`fetch`, at most `prefetch` messages, {@link PULL_EXPIRES_MS}) after the other. At close the
   * pull under way is not cut off: what the server still sends for it arrives and is given back
   * at once (`nak`), and the loop ends with that pull. Stopping a `consume()` iterator instead
   * unsubscribes while the server's pull request stays open, and what the server delivers to it
   * then waits out the ack wait before another instance gets it. On an error (connection lost,
   * consumer deleted) the consumer is re-declared and pulling resumes, with a capped backoff.
   */
  private async pump(sub: Subscription, pump: Pump, durable: string, filter: string) {
    let backoffMs = 100;
    while (!this.closing) {
      try {
        if (!this.knownConsumers.has(durable))
          await this.ensureConsumer(durable, filter, sub.prefetch);
        const consumer = await this.js!.consumers.get(this.stream, durable);
        while (!this.closing) {
          const batch = await consumer.fetch({
            max_messages: sub.prefetch,
            expires: PULL_EXPIRES_MS,
          });
          for await (const msg of batch) {
            backoffMs = 100;
            if (this.closing) {
              msg.nak();
              continue;
            }
            await this.acquire(sub);
            if (this.closing) {
              this.release(sub);
              msg.nak();
              continue;
            }
            this.dispatch(sub, msg);
          }
        }
      } catch (error) {
        if (!this.closing) {
          this.log.warn({ err: error, durable, stream: this.stream }, 'NATS consumer stopped');
        }
      }
      if (this.closing) break;
      this.knownConsumers.delete(durable);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoffMs);
        pump.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      pump.wake = undefined;
      backoffMs = Math.min(backoffMs * 2, 5_000);
    }
  }

  private async acquire(sub: Subscription): Promise<void> {
    if (sub.active >= sub.prefetch) await new Promise<void>((r) => sub.waiting.push(r));
    sub.active++;
  }

  private release(sub: Subscription): void {
    sub.active--;
    sub.waiting.shift()?.();
  }

  private dispatch(sub: Subscription, msg: JsMsg): void {
    const work = (async () => {
      try {
        const { outcome, delayMs } = await sub.handler({
          body: msg.string(),
          headers: this.fromHeaders(msg.headers),
          attempt: msg.info.deliveryCount,
        });
        if (outcome === 'retry') msg.nak(Math.max(1, delayMs ?? 0));
        else msg.ack();
      } catch (error) {
        // The pipeline never throws; should it, the server redelivers after the ack wait.
        this.log.error({ err: error, group: sub.group, type: sub.type }, 'delivery handler threw');
      } finally {
        this.release(sub);
      }
    })();
    this.inFlight.set(work, msg);
    void work.finally(() => this.inFlight.delete(work));
  }

  private toHeaders(record: Record<string, string>): MsgHdrs {
    const h = this.nats!.headers();
    for (const [k, v] of Object.entries(record)) h.set(k, encodeHeaderValue(v));
    return h;
  }

  private fromHeaders(h: MsgHdrs | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of h?.keys() ?? []) {
      if (NATS_HEADER.test(k)) continue;
      out[k] = decodeHeaderValue(h!.get(k));
    }
    return out;
  }

  async deadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void> {
    // No msgID: a message that fails again after a replay must be stored again, not deduped.
    await this.client().publish(
      `${this.dlqStream}.${encodeToken(letter.group)}.${typeSubject(letter.type)}`,
      letter.body,
      { headers: this.toHeaders(letter.headers), timeout: this.settings.publishTimeoutMs },
    );
  }

  async listDeadLetters(limit: number): Promise<DeadLetterRecord[]> {
    this.client();
    const { state } = await this.jsm!.streams.info(this.dlqStream);
    const letters: DeadLetterRecord[] = [];
    let seq = state.first_seq;
    // Message-get by sequence, skipping deleted ones (next_by_subj): no consumer state to clean up.
    while (letters.length < limit && state.messages > 0 && seq <= state.last_seq) {
      let stored: StoredMsg | null;
      try {
        // The server (2.9+) honours next_by_subj on MSG.GET; the client's type only lists seq/last_by_subj.
        const request = { seq, next_by_subj: `${this.dlqStream}.>` } as unknown as MsgRequest;
        stored = await this.jsm!.streams.getMessage(this.dlqStream, request);
      } catch (error) {
        if (isNotFound(error)) break;
        throw error;
      }
      if (!stored) break;
      const [, groupToken, ...typeTokens] = stored.subject.split('.');
      letters.push({
        id: String(stored.seq),
        group: decodeToken(groupToken ?? ''),
        type: typeFromSubject(typeTokens),
        body: stored.string(),
        headers: this.fromHeaders(stored.header),
      });
      seq = stored.seq + 1;
    }
    return letters;
  }

  async removeDeadLetters(letters: readonly DeadLetterRecord[]): Promise<void> {
    this.client();
    for (const letter of letters) {
      try {
        await this.jsm!.streams.deleteMessage(this.dlqStream, Number(letter.id), false);
      } catch (error) {
        if (!isNotFound(error)) throw error; // already removed
      }
    }
  }

  async redeliver(group: string, message: OutgoingMessage): Promise<void> {
    const js = this.client();
    const durable = consumerName(group, message.type, 'rd');
    const subject = this.redeliverySubject(group, message.type);
    // With interest retention a message nobody's filter matches is dropped: make sure the
    // group's redelivery consumer exists even when this process does not consume that group.
    if (!this.knownConsumers.has(durable)) await this.ensureConsumer(durable, subject);
    await js.publish(subject, message.body, {
      headers: this.toHeaders(message.headers),
      timeout: this.settings.publishTimeoutMs,
      // Its own id: the original x-message-id is still in the duplicate window after a quick replay.
      msgID: `rd:${randomUUID()}`,
    });
  }

  async ping(): Promise<void> {
    const nc = this.nc;
    if (!nc || this.closing || nc.isClosed()) throw new Error('NatsTransport is closed');
    if (!this.connected) throw new Error(`NATS ${this.safeUrl} is not connected`);
    await withTimeout(
      nc.rtt().catch((error: unknown) => {
        throw new Error(`NATS ${this.safeUrl} did not answer a ping: ${String(error)}`);
      }),
      this.settings.pingTimeoutMs,
      () => `NATS ${this.safeUrl} did not answer a ping`,
    );
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    // The pulls under way end by themselves within PULL_EXPIRES_MS (see pump()).
    for (const pump of this.pumps) pump.wake?.();
    await Promise.allSettled(this.loops);
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight.keys());
    clearInterval(this.heartbeat);
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    // Acks are buffered writes: flush them (bounded, the server may be gone) before closing.
    await withTimeout(nc.flush(), this.settings.closeFlushTimeoutMs, 'flush').catch(() => {});
    await nc.close().catch(() => {});
    this.log.info({ url: this.safeUrl }, 'NATS transport closed');
  }
}

function isNotFound(error: unknown): boolean {
  // JetStreamApiError: `status` is the HTTP-like status, `code` the JetStream error code
  // (10014 consumer, 10059 stream, 10037 message not found).
  const e = error as { status?: unknown; code?: unknown };
  return e?.status === 404 || e?.code === 10014 || e?.code === 10059 || e?.code === 10037;
}

/**
 * `nats://[user:pass@|token@]host:port[,host:port...]`: credentials go to the connect options (the
 * URL is only ever logged masked).
 */
export function parseNatsUrl(url: string): {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
} {
  const match = /^(nats|tls|wss?):\/\/(?:([^@/]*)@)?([^/?#]+)/i.exec(url.trim());
  if (!match) {
    throw new MessagingConfigError(
      `MessagingModule: options.url must be a nats:// URL, got "${maskUrlPassword(url)}"`,
    );
  }
  const [, scheme, auth, hosts] = match;
  const servers = hosts!.split(',').map((h) => `${scheme!.toLowerCase()}://${h.trim()}`);
  if (!auth) return { servers };
  const colon = auth.indexOf(':');
  if (colon < 0) return { servers, token: decodeURIComponent(auth) };
  return {
    servers,
    user: decodeURIComponent(auth.slice(0, colon)),
    pass: decodeURIComponent(auth.slice(colon + 1)),
  };
}

/** Builds and connects nothing yet: the runtime calls `connect()` at module init. */
export async function createNatsTransport(
  options: TransportOptions,
  settings: NatsTransportOptions = {},
): Promise<Transport> {
  return new NatsTransport(options, settings);
}
