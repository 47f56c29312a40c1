/**
 * The part of the Kafka client (@platformatic/kafka 2.x) the transport uses, written out so the
 * tests can hand in an in-memory fake that speaks the same API: `Producer.send`, `Consumer.consume`
 * (a `MessagesStream`, a Node.js object-mode Readable of `Message`s with `commit()`), the consumer's
 * `consumer:group:join` event, `Consumer.listOffsets`, `Admin.createTopics`/`metadata`/
 * `deleteGroups`. The library's own classes satisfy these types structurally (checked in
 * `kafka.transport.ts` where the real client is built). Keys, values and header keys/values are
 * Buffers (the library's default no-op serialisers).
 */

/** One consumed record (`Message<Buffer, Buffer, Buffer, Buffer>`). */
export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: bigint;
  /** undefined for a null key. */
  key?: Buffer;
  /** undefined for a null value (a tombstone). */
  value?: Buffer;
  headers: Map<Buffer, Buffer>;
  /** Commits `offset + 1` for this partition (coalesced with other commits of the stream). */
  commit(): void | Promise<void>;
}

/** One record to produce; `value: undefined` is a tombstone (compacted topics). */
export interface KafkaOutgoingMessage {
  topic: string;
  key?: Buffer;
  value?: Buffer;
  headers?: Map<Buffer, Buffer>;
}

/** The consumer's messages stream (`MessagesStream`): a Readable in object mode. */
export interface KafkaMessagesStream {
  on(event: 'data', listener: (message: KafkaMessage) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'fetch', listener: () => void): this;
  pause(): this;
  resume(): this;
  /** Stops fetching and ends the stream (waits for a commit in flight). */
  close(): Promise<void>;
  /** Next offset to fetch per `topic:partition`. */
  readonly offsetsToFetch: Map<string, bigint>;
  /** Messages fetched but not yet emitted (buffered while paused). */
  readonly readableLength: number;
}

export interface KafkaConsumeOptions {
  topics: string[];
  /** `committed`: the group's committed offset, else `fallbackMode`. `earliest`: from the start. */
  mode: 'committed' | 'earliest';
  fallbackMode?: 'earliest' | 'latest';
  autocommit: false;
  maxWaitTime?: number;
  highWaterMark?: number;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
}

export interface KafkaGroupJoin {
  groupId: string;
  memberId: string;
  generationId?: number;
  assignments?: Array<{ topic: string; partitions: number[] }>;
}

export interface KafkaConsumerLike {
  consume(options: KafkaConsumeOptions): Promise<KafkaMessagesStream>;
  /** End offsets (`timestamp` -1n, the default) or start offsets (-2n), per topic by partition. */
  listOffsets(options: { topics: string[]; timestamp?: bigint }): Promise<Map<string, bigint[]>>;
  on(event: 'consumer:group:join', listener: (payload: KafkaGroupJoin) => void): this;
  /** Leaves the group; `force` closes the streams first. */
  close(force?: boolean): Promise<void>;
}

export interface KafkaProducerLike {
  send(options: { messages: KafkaOutgoingMessage[]; acks?: number }): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}

export interface KafkaAdminLike {
  createTopics(options: {
    topics: string[];
    partitions?: number;
    replicas?: number;
    configs?: Array<{ name: string; value?: string | null }>;
  }): Promise<unknown>;
  /** Cluster metadata; `topics: []` asks for the brokers only. */
  metadata(options: {
    topics: string[];
    forceUpdate?: boolean;
    retries?: number;
  }): Promise<unknown>;
  deleteGroups(options: { groups: string[] }): Promise<void>;
  close(): Promise<void>;
}

/** Chooses a partition for a record; `key` is the serialised key (undefined without a key). */
export type KafkaPartitioner = (
  message: { topic: string; key?: unknown },
  key: Buffer | undefined,
  context: { metadata: unknown },
) => number;

export interface KafkaProducerConfig {
  idempotent: boolean;
  acks: number;
  partitioner: KafkaPartitioner;
  autocreateTopics: boolean;
}

export interface KafkaConsumerConfig {
  groupId: string;
  autocommit: false;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
  autocreateTopics?: boolean;
}

/**
 * The client: a factory of producers, consumers and admin clients sharing one broker list and the
 * connection settings (client id, TLS, SASL, timeouts).
 */
export interface KafkaClientLike {
  producer(config: KafkaProducerConfig): KafkaProducerLike;
  consumer(config: KafkaConsumerConfig): KafkaConsumerLike;
  admin(): KafkaAdminLike;
}

/** Error codes of the Kafka protocol (`ProtocolError.apiId`), found anywhere in an error chain. */
export function hasKafkaError(error: unknown, apiId: string, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { apiId?: unknown; errors?: unknown; cause?: unknown };
  if (e.apiId === apiId) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => hasKafkaError(x, apiId, depth + 1)))
    return true;
  return hasKafkaError(e.cause, apiId, depth + 1);
}

/** `topic:partition`, the key the client uses in `offsetsToFetch`. */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;
