import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type * as Mqtt from 'mqtt';
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { maskUrlPassword, withTimeout as boundedBy, loadDriver } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';
import { MessagingConfigError } from '../../errors.js';
import {
  clientIdOf,
  decodeLevel,
  decodeProperty,
  encodeLevel,
  encodeProperty,
  shareName,
  sortableId,
} from './mqtt.topics.js';
import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportOptions,
} from '../transport.js';

/** Knobs of the MQTT transport beyond {@link TransportOptions}. */
export interface MqttTransportOptions {
  /**
   * Stable name of this instance in its persistent-session client ids. Must be the same across
   * restarts of one instance and different between instances of one service.
   * @default os.hostname()
   */
  instanceId?: string;
  /** How long the broker keeps an offline subscriber's session (and its queued messages). @default 86400 */
  sessionExpirySeconds?: number;
  /** Bound of one QoS 1 publish (PUBACK). @default 10000 */
  publishTimeoutMs?: number;
  /** Bound of `ping()`. @default 2000 */
  pingTimeoutMs?: number;
  /** Bound of `listDeadLetters` (collecting the retained letters). @default 10000 */
  listTimeoutMs?: number;
  /** Wait between reconnect attempts. @default 500 */
  reconnectPeriodMs?: number;
  /** MQTT keepalive in seconds (a dead connection is noticed after 1.5 ×). @default 10 */
  keepaliveSeconds?: number;
}

type MqttModule = typeof Mqtt;

const DEFAULTS: Required<Omit<MqttTransportOptions, 'instanceId'>> = {
  sessionExpirySeconds: 86_400,
  publishTimeoutMs: 10_000,
  pingTimeoutMs: 2_000,
  listTimeoutMs: 10_000,
  reconnectPeriodMs: 500,
  keepaliveSeconds: 10,
};

/** The attempt travels as a user property; it is not one of the message's own headers. */
const ATTEMPT = 'x-attempt';
/** Sent back by our handleMessage so mqtt.js does not PUBACK: we do, after the outcome. */
const DEFERRED = new Error('PUBACK deferred until the handler decided');
/** Session taken over (MQTT 5 reason code 0x8E). */
const TAKEN_OVER = 142;

interface Subscription {
  type: string;
  group: string;
  handler: DeliveryHandler;
  client: MqttClient;
  /** Bumped on every (re)connect: a PUBACK from an older connection could hit a reused packet id. */
  generation: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return boundedBy(promise, ms, () => `${what} timed out after ${ms} ms`);
}

/**
 * Writes a PUBACK for a message whose automatic PUBACK was skipped. mqtt.js has no public call
 * for a late acknowledgement; its packet writer is the one it uses itself.
 */
function sendPuback(client: MqttClient, messageId: number): void {
  const write = (client as unknown as Record<string, (packet: object) => void>)[SEND_PACKET]!;
  write.call(client, { cmd: 'puback', messageId, reasonCode: 0 });
}

const SEND_PACKET = '_sendPacket';

/** A graceful end waits for unacknowledged publishes; forced when the broker is gone. */
function endClient(client: MqttClient): Promise<void> {
  return withTimeout(client.endAsync(), 2_000, 'MQTT disconnect').catch(() =>
    client.endAsync(true),
  );
}

/**
 * MQTT 5 transport (Mosquitto 2.x).
 *
 * Events on `<ns>/<type>`. Each (type, group) subscription is its own client with a persistent
 * session (`clean: false`, session expiry), client id `<ns>:<service>:<instance>:<group>:<type>`,
 * `receiveMaximum = prefetch`, subscribed QoS 1 to `$share/<ns>.<group>/<ns>/<type>` and to the
 * group's retry topic `$share/<ns>.<group>/<ns>/retry/<group>/<type>`. The PUBACK is sent only
 * after the pipeline's outcome, so an unfinished message stays with the broker. Retries and
 * replays are re-published to the retry topic (attempt in the `x-attempt` user property); dead
 * letters are retained messages on `<ns>/dead-letters/<group>/<type>/<id>`.
 */
export class MqttTransport implements Transport {
  readonly name = 'mqtt';
  private readonly log = getLogger('MqttTransport');
  private readonly settings: Required<MqttTransportOptions>;
  private readonly ns: string;
  private mqtt?: MqttModule;
  private publisher?: MqttClient;
  private readonly subs: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closing = false;
  private closed?: Promise<void>;

  constructor(
    private readonly options: TransportOptions,
    settings: MqttTransportOptions = {},
  ) {
    if (!options.url) {
      throw new MessagingConfigError('MessagingModule: options.url is required for transport mqtt');
    }
    if (!/^(mqtts?|wss?|tcp|ssl):\/\//i.test(options.url)) {
      throw new MessagingConfigError(
        `MessagingModule: options.url must be an mqtt:// URL, got "${maskUrlPassword(options.url)}"`,
      );
    }
    this.settings = { ...DEFAULTS, instanceId: hostname(), ...settings };
    this.ns = encodeLevel(options.namespace);
  }

  private get safeUrl(): string {
    return maskUrlPassword(this.options.url ?? '');
  }

  private topic(type: string): string {
    return `${this.ns}/${encodeLevel(type)}`;
  }

  private retryTopic(group: string, type: string): string {
    return `${this.ns}/retry/${encodeLevel(group)}/${encodeLevel(type)}`;
  }

  private deadLetterTopic(group: string, type: string, id: string): string {
    return `${this.ns}/dead-letters/${encodeLevel(group)}/${encodeLevel(type)}/${id}`;
  }

  private baseOptions(): IClientOptions {
    return {
      protocolVersion: 5,
      reconnectPeriod: this.settings.reconnectPeriodMs,
      connectTimeout: 10_000,
      keepalive: this.settings.keepaliveSeconds,
      // Publishes wait for the connection instead of failing (bounded by publishTimeoutMs).
      queueQoSZero: false,
    };
  }

  async connect(): Promise<void> {
    if (this.publisher) return;
    this.mqtt = await loadDriver<MqttModule>('mqtt', 'MQTT transport');
    this.publisher = await this.mqtt.connectAsync(this.options.url!, {
      ...this.baseOptions(),
      clientId: clientIdOf([this.ns, this.options.serviceName, 'pub', randomUUID().slice(0, 8)]),
      clean: true,
    });
    this.watch(this.publisher, 'publisher');
    this.log.info({ url: this.safeUrl, namespace: this.ns }, 'connected to MQTT broker');
  }

  private watch(client: MqttClient, role: string): void {
    client.on('error', (error) => {
      if (!this.closing)
        this.log.warn({ err: error, role, url: this.safeUrl }, 'MQTT client error');
    });
    client.on('offline', () => {
      if (!this.closing)
        this.log.warn({ role, url: this.safeUrl }, 'MQTT connection lost; reconnecting');
    });
    client.on('disconnect', (packet) => {
      if (packet.reasonCode === TAKEN_OVER) {
        this.log.error(
          { role, clientId: client.options.clientId },
          'MQTT session taken over by another client with the same id: give each instance its own instanceId',
        );
      }
    });
  }

  private client(): MqttClient {
    if (this.closing || !this.publisher) throw new Error('MqttTransport is not connected');
    return this.publisher;
  }

  private async send(
    topic: string,
    body: string | Buffer,
    userProperties: Record<string, string>,
    retain = false,
  ): Promise<void> {
    const encoded = Object.fromEntries(
      Object.entries(userProperties).map(([k, v]) => [k, encodeProperty(v)]),
    );
    const contentType = userProperties['content-type'];
    // mqtt-packet 9 writes a broken packet for an empty user-property map (no PUBACK ever comes).
    const properties =
      Object.keys(userProperties).length > 0
        ? { userProperties: encoded, ...(contentType ? { contentType } : {}) }
        : undefined;
    await withTimeout(
      this.client().publishAsync(topic, body, {
        qos: 1,
        retain,
        ...(properties ? { properties } : {}),
      }),
      this.settings.publishTimeoutMs,
      `MQTT publish to ${topic}`,
    );
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    // Written in order on one connection; resolved once every PUBACK came back.
    await Promise.all(messages.map((m) => this.send(this.topic(m.type), m.body, m.headers)));
  }

  async subscribe(
    type: string,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<void> {
    this.client();
    const prefetch = Math.max(1, Math.min(65_535, options.prefetch));
    const share = shareName(this.ns, group);
    const topics = [this.topic(type), this.retryTopic(group, type)];
    const client = this.mqtt!.connect(this.options.url!, {
      ...this.baseOptions(),
      clientId: clientIdOf([
        this.ns,
        this.options.serviceName,
        this.settings.instanceId,
        group,
        type,
      ]),
      clean: false,
      // The broker keeps at most `prefetch` unacknowledged QoS 1 messages in flight to us.
      properties: {
        sessionExpiryInterval: this.settings.sessionExpirySeconds,
        receiveMaximum: prefetch,
      },
      // The pipeline acks, not the library: see handleMessage below.
      customHandleAcks: (_topic, _payload, _packet, done) => done(0),
      resubscribe: false,
    });
    const sub: Subscription = { type, group, handler, client, generation: 0 };
    client.handleMessage = (packet, callback) => {
      if (packet.cmd !== 'publish') return callback();
      this.deliver(sub, packet);
      // An error here makes mqtt.js skip its PUBACK but keep reading packets.
      if (packet.qos === 1) callback(DEFERRED);
      else callback();
    };
    this.watch(client, `subscriber ${group}/${type}`);
    const filters = topics.map((t) => `$share/${share}/${t}`);
    let subscribed: Promise<unknown> = Promise.resolve();
    client.on('connect', () => {
      sub.generation++;
      // Subscribed on every connect: a no-op when the session kept them, needed when it did not.
      subscribed = client.subscribeAsync(filters, { qos: 1 });
      subscribed.catch((error: unknown) => {
        if (!this.closing) this.log.error({ err: error, group, type }, 'MQTT subscribe failed');
      });
    });
    this.subs.push(sub);
    await new Promise<void>((resolve, reject) => {
      const ok = () => {
        client.off('error', fail);
        resolve();
      };
      const fail = (error: Error) => {
        client.off('connect', ok);
        reject(error);
      };
      client.once('connect', ok);
      client.once('error', fail);
    });
    await subscribed;
  }

  private deliver(sub: Subscription, packet: IPublishPacket): void {
    const generation = sub.generation;
    const props = packet.properties?.userProperties ?? {};
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(props)) {
      if (k === ATTEMPT) continue;
      headers[k] = decodeProperty(Array.isArray(v) ? (v.at(-1) ?? '') : v);
    }
    const raw = props[ATTEMPT];
    const stated = Number(Array.isArray(raw) ? raw.at(-1) : raw) || 1;
    // A resend by the broker (DUP) is a further delivery of the same attempt number.
    const attempt = stated + (packet.dup ? 1 : 0);
    const body = Buffer.isBuffer(packet.payload)
      ? packet.payload.toString('utf8')
      : String(packet.payload);
    const ack = () => {
      if (packet.qos !== 1 || packet.messageId === undefined) return;
      // Only on the connection that received it: after a reconnect the broker resends it (with
      // the same or a reused packet id), so an old PUBACK could acknowledge another message.
      if (sub.generation !== generation || !sub.client.connected) return;
      sendPuback(sub.client, packet.messageId);
    };
    const work = (async () => {
      try {
        const { outcome, delayMs } = await sub.handler({ body, headers, attempt });
        if (outcome !== 'retry') return ack();
        await this.delay(delayMs ?? 0);
        // Closing, or the connection changed: the broker still has the message and resends it.
        if (this.closing || sub.generation !== generation) return;
        await this.send(this.retryTopic(sub.group, sub.type), body, {
          ...headers,
          [ATTEMPT]: String(attempt + 1),
        });
        ack();
      } catch (error) {
        // The retry could not be published: no PUBACK, the broker resends after a reconnect.
        if (!this.closing) {
          this.log.error({ err: error, group: sub.group, type: sub.type }, 'MQTT delivery failed');
        }
      }
    })();
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Resolves after `ms`, or at once when the transport closes (the broker keeps the message). */
  private delay(ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  async deadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void> {
    const topic = this.deadLetterTopic(letter.group, letter.type, sortableId());
    await this.send(topic, letter.body, letter.headers, true);
  }

  /**
   * Subscribes a short-lived client to `<ns>/dead-letters/#` (the broker sends every retained
   * letter), then publishes a marker on a topic under the same filter: the broker queues it
   * behind the retained letters, so its arrival means all letters have arrived.
   */
  async listDeadLetters(limit: number): Promise<DeadLetterRecord[]> {
    this.client();
    const reader = await this.mqtt!.connectAsync(this.options.url!, {
      ...this.baseOptions(),
      reconnectPeriod: 0,
      clientId: clientIdOf([this.ns, 'dead-letters', randomUUID().slice(0, 12)]),
      clean: true,
    });
    try {
      const prefix = `${this.ns}/dead-letters/`;
      const marker = `${prefix}~end/${randomUUID()}`;
      const letters: DeadLetterRecord[] = [];
      const complete = new Promise<void>((resolve) => {
        reader.on('message', (topic, payload, packet) => {
          if (topic === marker) return resolve();
          if (!packet.retain || payload.length === 0) return;
          const [group, type, id] = topic.slice(prefix.length).split('/');
          if (group === undefined || type === undefined || id === undefined) return;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(packet.properties?.userProperties ?? {})) {
            headers[k] = decodeProperty(Array.isArray(v) ? (v.at(-1) ?? '') : v);
          }
          letters.push({
            id,
            group: decodeLevel(group),
            type: decodeLevel(type),
            body: payload.toString('utf8'),
            headers,
          });
        });
      });
      await reader.subscribeAsync(`${prefix}#`, { qos: 0 });
      await reader.publishAsync(marker, '', { qos: 1 });
      await withTimeout(complete, this.settings.listTimeoutMs, 'MQTT dead-letter listing');
      return letters.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit);
    } finally {
      await reader.endAsync(true).catch(() => {});
    }
  }

  async removeDeadLetters(letters: readonly DeadLetterRecord[]): Promise<void> {
    // An empty retained message deletes the retained one.
    for (const l of letters)
      await this.send(this.deadLetterTopic(l.group, l.type, l.id), '', {}, true);
  }

  async redeliver(group: string, message: OutgoingMessage): Promise<void> {
    await this.send(this.retryTopic(group, message.type), message.body, {
      ...message.headers,
      [ATTEMPT]: '1',
    });
  }

  async ping(): Promise<void> {
    const client = this.client();
    if (!client.connected) throw new Error(`MQTT ${this.safeUrl} is not connected`);
    // A QoS 1 publish nobody subscribes to: the PUBACK is the broker's answer.
    await withTimeout(
      client.publishAsync(`${this.ns}/~ping`, '', { qos: 1 }),
      this.settings.pingTimeoutMs,
      `MQTT ping of ${this.safeUrl}`,
    );
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    // Retries waiting for their delay give up: their messages stay unacknowledged in the session.
    for (const [timer, resolve] of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
    // Stop taking new deliveries, let the running ones finish and ack.
    for (const sub of this.subs) {
      sub.client.handleMessage = (_packet, callback) => callback(DEFERRED);
    }
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
    // The session (clean: false) keeps the subscriptions and anything not yet acked.
    await Promise.allSettled(this.subs.map((s) => endClient(s.client)));
    if (this.publisher) await endClient(this.publisher).catch(() => {});
    this.log.info({ url: this.safeUrl }, 'MQTT transport closed');
  }

  /**
   * Ends this instance's persistent sessions at the broker (decommissioning, tests): queued
   * messages of those sessions are dropped. Call after `close()`.
   */
  async destroySessions(): Promise<void> {
    const mqtt = this.mqtt ?? (await loadDriver<MqttModule>('mqtt', 'MQTT transport'));
    for (const sub of this.subs) {
      const c = await mqtt.connectAsync(this.options.url!, {
        ...this.baseOptions(),
        reconnectPeriod: 0,
        clientId: sub.client.options.clientId!,
        clean: true,
        properties: { sessionExpiryInterval: 0 },
      });
      await c.endAsync();
    }
  }
}

/** Builds the transport; the runtime calls `connect()` at module init. */
export async function createMqttTransport(
  options: TransportOptions,
  settings: MqttTransportOptions = {},
): Promise<Transport> {
  return new MqttTransport(options, settings);
}
