import type { getLogger } from '@infrastructure/monitoring';
import type { DeadLetterRecord } from './transport.js';
import type {
  KafkaAdminLike,
  KafkaBatchPayload,
  KafkaClientLike,
  KafkaConsumerLike,
} from './kafka.client.js';
import { decodeHeaders, HEADER } from './kafka.topology.js';

type Logger = ReturnType<typeof getLogger>;

/**
 * The current content of the compacted dead-letter topic, read from its beginning by a consumer
 * of this process only (its own throwaway group, never committing): each letter is keyed by its
 * id; a removed letter is a tombstone (null value) on that key, which log compaction later
 * deletes for good. `list()` first catches up with the topic's end offsets, so a letter stored by
 * any process before the call is seen.
 */
export class KafkaDeadLetterView {
  private consumer?: KafkaConsumerLike;
  private starting?: Promise<void>;
  private readonly letters = new Map<string, DeadLetterRecord>();
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
    const consumer = this.consumer;
    this.consumer = undefined;
    this.wake();
    if (!consumer) return;
    await this.starting?.catch(() => undefined);
    await consumer.disconnect();
    // The group never committed, so the broker drops it on its own; deleting is just tidier.
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
  }

  private start(): Promise<void> {
    this.starting ??= (async () => {
      const consumer = this.client.consumer({
        groupId: this.groupId,
        allowAutoTopicCreation: false,
      });
      this.consumer = consumer;
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async (payload) => this.onBatch(payload),
      });
    })().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async onBatch({ batch }: KafkaBatchPayload): Promise<void> {
    for (const record of batch.messages) {
      const id = record.key?.toString('utf8');
      if (!id) continue;
      if (record.value === null) {
        this.letters.delete(id);
        continue;
      }
      const { visible, internal } = decodeHeaders(record.headers);
      this.letters.set(id, {
        id,
        type: internal[HEADER.letterType] ?? '',
        group: internal[HEADER.letterGroup] ?? '',
        body: record.value.toString('utf8'),
        headers: visible,
      });
    }
    // lastOffset() covers records the client filtered out (control records), so the end is reachable.
    this.positions.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
    this.wake();
  }

  private wake(): void {
    const waiting = this.progress;
    this.progress = [];
    for (const resolve of waiting) resolve();
  }

  private async catchUp(): Promise<void> {
    await this.start();
    const ends = await this.admin.fetchTopicOffsets(this.topic);
    const behind = () =>
      ends.some(({ partition, high, low }) => {
        const end = BigInt(high);
        if (end <= BigInt(low)) return false;
        return (this.positions.get(partition) ?? -1n) < end;
      });
    const deadline = Date.now() + this.timeoutMs;
    while (behind()) {
      if (!this.consumer) throw new Error('KafkaTransport: closed while reading dead letters');
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
