import type { getLogger } from '@infrastructure/monitoring';
import type { DeadLetterRecord } from '../transport.js';
import {
  partitionKey,
  type KafkaAdminLike,
  type KafkaClientLike,
  type KafkaConsumerLike,
  type KafkaMessage,
  type KafkaMessagesStream,
} from './kafka.client.js';
import { decodeHeaders, HEADER } from './kafka.topology.js';

type Logger = ReturnType<typeof getLogger>;

/** `listOffsets` timestamp for the first offset of each partition. */
const EARLIEST = -2n;

/**
 * The current content of the compacted dead-letter topic, read from its beginning by a consumer
 * of this process only (its own throwaway group, never committing): each letter is keyed by its
 * id; a removed letter is a tombstone (null value) on that key, which log compaction later
 * deletes for good. `list()` first catches up with the topic's end offsets, so a letter stored by
 * any process before the call is seen.
 */
export class KafkaDeadLetterView {
  private consumer?: KafkaConsumerLike;
  private stream?: KafkaMessagesStream;
  private starting?: Promise<void>;
  private failure?: Error;
  private closed = false;
  private readonly letters = new Map<string, DeadLetterRecord>();
  /** Next offset after the last record seen, by partition. */
  private readonly positions = new Map<number, bigint>();
  private progress: Array<() => void> = [];

  constructor(
    private readonly client: KafkaClientLike,
    private readonly admin: KafkaAdminLike,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Up to `limit` letters, oldest first, as of the topic's end when called. */
  async list(limit: number): Promise<DeadLetterRecord[]> {
    await this.catchUp();
    return [...this.letters.values()].slice(0, limit);
  }

  /** Drops letters this process has just tombstoned (the tombstones arrive later). */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.letters.delete(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.starting?.catch(() => undefined);
    const started = await this.stop();
    // The group never committed, so the broker drops it on its own; deleting is just tidier.
    if (started) await this.admin.deleteGroups({ groups: [this.groupId] }).catch(() => undefined);
  }

  private async stop(): Promise<boolean> {
    const { consumer, stream } = this;
    this.consumer = undefined;
    this.stream = undefined;
    this.starting = undefined;
    if (!consumer) return false;
    await stream?.close().catch(() => undefined);
    await consumer.close(true);
    return true;
  }

  private start(): Promise<void> {
    this.starting ??= (async () => {
      this.failure = undefined;
      const consumer = this.client.consumer({
        groupId: this.groupId,
        autocommit: false,
        autocreateTopics: false,
      });
      this.consumer = consumer;
      const stream = await consumer.consume({
        topics: [this.topic],
        mode: 'earliest',
        autocommit: false,
        maxWaitTime: 500,
      });
      this.stream = stream;
      stream.on('data', (message) => this.onMessage(message));
      // A fetch that returned only records the stream filters out (control records) still moves
      // `offsetsToFetch`: look again once it has pushed what it fetched.
      stream.on('fetch', () => setImmediate(() => this.wake()));
      stream.on('error', (error) => {
        this.log.warn({ err: error, topic: this.topic }, 'dead-letter reader failed');
        this.failure = error;
        this.wake();
      });
    })().catch(async (error: unknown) => {
      await this.stop().catch(() => undefined);
      throw error;
    });
    return this.starting;
  }

  private onMessage(record: KafkaMessage): void {
    this.positions.set(record.partition, record.offset + 1n);
    const id = record.key?.toString('utf8');
    if (id) {
      if (record.value === undefined) {
        this.letters.delete(id);
      } else {
        const { visible, internal } = decodeHeaders(record.headers);
        this.letters.set(id, {
          id,
          type: internal[HEADER.letterType] ?? '',
          group: internal[HEADER.letterGroup] ?? '',
          body: record.value.toString('utf8'),
          headers: visible,
        });
      }
    }
    this.wake();
  }

  private position(partition: number): bigint {
    const seen = this.positions.get(partition) ?? -1n;
    const stream = this.stream;
    if (!stream || stream.readableLength > 0) return seen;
    const fetched = stream.offsetsToFetch.get(partitionKey(this.topic, partition)) ?? -1n;
    return fetched > seen ? fetched : seen;
  }

  private wake(): void {
    const waiting = this.progress;
    this.progress = [];
    for (const resolve of waiting) resolve();
  }

  private async catchUp(): Promise<void> {
    if (this.closed) throw new Error('KafkaTransport: closed while reading dead letters');
    await this.start();
    const consumer = this.consumer!;
    const [ends, starts] = await Promise.all([
      consumer.listOffsets({ topics: [this.topic] }),
      consumer.listOffsets({ topics: [this.topic], timestamp: EARLIEST }),
    ]);
    const end = ends.get(this.topic) ?? [];
    const low = starts.get(this.topic) ?? [];
    const behind = () =>
      end.some(
        (high, partition) => high > (low[partition] ?? 0n) && this.position(partition) < high,
      );
    const deadline = Date.now() + this.timeoutMs;
    while (behind()) {
      if (this.closed) throw new Error('KafkaTransport: closed while reading dead letters');
      if (this.failure) {
        const failure = this.failure;
        await this.stop().catch(() => undefined);
        throw failure;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.log.warn({ topic: this.topic }, 'dead-letter topic not read to its end in time');
        throw new Error(
          `KafkaTransport: could not read dead-letter topic "${this.topic}" to its end within ${this.timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.progress.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
