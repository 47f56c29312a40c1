import type { EventEnvelope } from '../event-registry.js';

/** A message handed to a transport for publishing. */
export interface OutgoingMessage {
  /** Event type: the routing key / stream / subject / topic it travels on. */
  type: string;
  /** JSON text of the envelope (any text for raw publishes: poison tests, replays). */
  body: string;
  headers: Record<string, string>;
  /** Ordering key (the aggregate id): one key's messages reach each group in publish order. */
  key?: string;
  /**
   * The envelope `body` is the JSON text of, as plain data the bus owns: set on what
   * `EventBus.publish` sends to an `inProcess` transport (`body` is then written only when
   * something reads it), which hands it on as {@link TransportMessage.envelope} instead of the
   * text. Brokers get `body` only. Read-only.
   */
  readonly envelope?: EventEnvelope;
}

/** A message as a transport hands it to the consumer pipeline. */
export interface TransportMessage {
  /** The raw body text (an envelope, or garbage for poison messages). */
  body: string;
  headers: Record<string, string>;
  /** 1 for the first delivery to this group, counted by the transport across redeliveries. */
  attempt: number;
  /**
   * An in-process transport's {@link OutgoingMessage.envelope}: the pipeline decodes a copy of it
   * instead of parsing `body`. Read-only (shared by every delivery of the message).
   */
  readonly envelope?: EventEnvelope;
}

/** What the consumer pipeline decided about one delivery. */
export type HandlingOutcome = 'success' | 'retry' | 'dead_letter';

/**
 * The consumer pipeline a transport calls for each delivery to each group. It never throws.
 * - `success`: ack.
 * - `retry`: redeliver to this group only, after `delayMs`, with `attempt + 1` (durably where the
 *   broker allows: a crash must not lose the message).
 * - `dead_letter`: the pipeline has already stored the dead letter (via `deadLetter`); ack.
 */
export type DeliveryHandler = (
  message: TransportMessage,
) => Promise<{ outcome: HandlingOutcome; delayMs?: number }>;

/** A stored dead letter. */
export interface DeadLetterRecord {
  /** Transport-specific id (stream id, delivery tag, sequence...). */
  id: string;
  /** Event type it was published as. */
  type: string;
  /** Consumer group that gave up on it. */
  group: string;
  body: string;
  /**
   * Original headers plus `x-exception-message`, `x-exception-type`, `x-dead-letter-reason`
   * (`<reason>: <detail>`, e.g. `malformed-envelope: missing type`), `x-attempts`,
   * `x-original-destination`, `x-failed-at`.
   */
  headers: Record<string, string>;
}

/** Per-subscription settings. */
export interface SubscribeOptions {
  /** Most deliveries in flight at once for this group (broker prefetch / max ack pending). */
  prefetch: number;
  /**
   * Stores a dead letter the transport decides on itself, for a delivery none of the group's
   * subscriptions takes (a foreign message in a group queue, a retry record of a type no longer
   * handled): through the runtime, so it is counted (`dead_letters_total`), logged and wakes
   * `DeadLetters.next()`. A transport without it calls its own `deadLetter`.
   */
  deadLetter?: (letter: Omit<DeadLetterRecord, 'id'>) => Promise<void>;
}

/**
 * A broker adapter behind the EventBus port. Every transport gives the same guarantees (the shared
 * contract suite checks them): at-least-once delivery to every group, ack only after the pipeline
 * decided, per-key order, retries to one group only, dead letters that can be listed and replayed,
 * publish that resolves only once the broker has the messages.
 */
export interface Transport {
  /** `memory`, `redis`, `rabbitmq`, `kafka`, `nats`, `mqtt`: the `transport` metric label. */
  readonly name: string;
  /**
   * True for a transport in this process that hands {@link OutgoingMessage.envelope} to the
   * pipeline as {@link TransportMessage.envelope} and reads `body` only when it must (a dead
   * letter): the bus then writes the JSON text only when it is read (a prototype getter, so a
   * spread of such a message has no `body`). Brokers leave it unset.
   */
  readonly inProcess?: boolean;
  /** Connects and declares shared topology. Called once, before publish/subscribe. */
  connect(): Promise<void>;
  /** Publishes in order; resolves once the broker has confirmed every message. */
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Starts delivering `type` to `group` (one subscription per type and group). */
  subscribe(
    type: string,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<void>;
  /** Stores a dead letter in the transport's dead-letter destination. */
  deadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void>;
  /** Reads up to `limit` stored dead letters, oldest first, without removing them. */
  listDeadLetters(limit: number): Promise<DeadLetterRecord[]>;
  /** Removes stored dead letters (after a replay). */
  removeDeadLetters(letters: readonly DeadLetterRecord[]): Promise<void>;
  /** Delivers a message to one group only, as a first attempt (dead-letter replay). */
  redeliver(group: string, message: OutgoingMessage): Promise<void>;
  /** Throws when the broker does not answer (health indicator; callers bound it with a timeout). */
  ping(): Promise<void>;
  /** Stops consuming, waits for in-flight deliveries, closes connections. Idempotent. */
  close(): Promise<void>;
}

/** Options every transport factory receives. */
export interface TransportOptions {
  /** Broker URL (`redis://`, `amqp://`, `nats://`, `mqtt://`, `kafka://host:port,...`). */
  url?: string;
  /** Shared name space of the event topology (exchange, stream prefix, subject prefix). @default 'events' */
  namespace: string;
  /** Name of this service (client ids, dead-letter origin). */
  serviceName: string;
}
