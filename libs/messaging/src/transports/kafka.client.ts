/**
 * The part of the Kafka client (kafkajs 2.x) the transport uses, written out so the unit tests can
 * hand in an in-memory fake. kafkajs' own objects satisfy these types structurally (checked in
 * `kafka.transport.ts` where the real client is built).
 */

/** Header values as the client hands them over (Buffers from the broker). */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** One fetched record. */
export interface KafkaRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: KafkaHeaders;
}

/** One record to produce; `value: null` is a tombstone (compacted topics). */
export interface KafkaOutgoingRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: KafkaHeaders;
}

export interface KafkaBatch {
  topic: string;
  partition: number;
  messages: KafkaRecord[];
  lastOffset(): string;
}

/** What `eachBatch` receives (kafkajs `EachBatchPayload`). */
export interface KafkaBatchPayload {
  batch: KafkaBatch;
  /** Marks `offset` as processed: the next fetch of this partition starts after it. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  /** Pauses fetching this partition; returns the function that resumes it. */
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: {
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
  }): Promise<void>;
  isRunning(): boolean;
  /** True when a seek is pending for this partition: the rest of the batch is obsolete. */
  isStale(): boolean;
}

export interface KafkaProducerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(batch: {
    acks?: number;
    timeout?: number;
    topicMessages?: Array<{ topic: string; messages: KafkaOutgoingRecord[] }>;
  }): Promise<unknown>;
}

export interface KafkaConsumerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>;
  run(config: {
    autoCommit?: boolean;
    eachBatchAutoResolve?: boolean;
    partitionsConsumedConcurrently?: number;
    eachBatch?: (payload: KafkaBatchPayload) => Promise<void>;
  }): Promise<void>;
  seek(target: { topic: string; partition: number; offset: string }): void;
}

export interface KafkaAdminLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  createTopics(options: {
    waitForLeaders?: boolean;
    topics: Array<{
      topic: string;
      numPartitions?: number;
      replicationFactor?: number;
      configEntries?: Array<{ name: string; value: string }>;
    }>;
  }): Promise<boolean>;
  fetchTopicOffsets(
    topic: string,
  ): Promise<Array<{ partition: number; offset: string; high: string; low: string }>>;
  describeCluster(): Promise<unknown>;
  deleteGroups(groupIds: string[]): Promise<unknown>;
}

export interface KafkaConsumerConfig {
  groupId: string;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
  maxWaitTimeInMs?: number;
  allowAutoTopicCreation?: boolean;
  retry?: { restartOnFailure?: (error: Error) => Promise<boolean> };
}

export interface KafkaProducerConfig {
  idempotent?: boolean;
  maxInFlightRequests?: number;
  allowAutoTopicCreation?: boolean;
}

/** The client: a factory of producers, consumers and admin clients sharing one broker list. */
export interface KafkaClientLike {
  producer(config?: KafkaProducerConfig): KafkaProducerLike;
  consumer(config: KafkaConsumerConfig): KafkaConsumerLike;
  admin(): KafkaAdminLike;
}
