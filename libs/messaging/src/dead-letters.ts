import { Injectable } from '@nestjs/common';
import type { DeadLetterRecord, Transport } from './transports/transport.js';

/** A message that exhausted its retries or could never be handled. */
export type DeadLetter = DeadLetterRecord;

const FAILURE_HEADERS = new Set([
  'x-exception-message',
  'x-exception-type',
  'x-exception-stack',
  'x-dead-letter-reason',
  'x-attempts',
  'x-original-destination',
  'x-failed-at',
]);

/**
 * Dead letters of the transport (a queue, stream or subject per broker; memory for `memory`):
 * `list(filter)`, `next(filter)` (a promise, for tests and tooling) and `replay(filter)`, which
 * redelivers each matching letter to the group that gave up on it and removes it.
 */
@Injectable()
export class DeadLetters {
  private transport?: Transport;
  private waiters: Array<{
    filter: (letter: DeadLetter) => boolean;
    resolve: (letter: DeadLetter) => void;
  }> = [];

  /** @internal */
  attach(transport: Transport): void {
    this.transport = transport;
  }

  private get source(): Transport {
    if (!this.transport) throw new Error('DeadLetters: no transport attached');
    return this.transport;
  }

  /**
   * @internal Stores a dead letter, calls `onStored` (metrics: counted before any waiter sees the
   * letter), then wakes `next()` waiters.
   */
  async add(letter: Omit<DeadLetter, 'id'>, onStored?: () => void): Promise<void> {
    await this.source.deadLetter(letter);
    onStored?.();
    const ready = this.waiters.filter((w) => w.filter({ ...letter, id: '' }));
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    const stored = await this.list(() => true, 10_000);
    for (const w of ready) {
      const found = stored.filter(w.filter).at(-1);
      if (found) w.resolve(found);
      else this.waiters.push(w);
    }
  }

  /**
   * Resolves with the first dead letter matching `filter`, already stored or dead-lettered later
   * by this process.
   */
  async next(filter: (letter: DeadLetter) => boolean = () => true): Promise<DeadLetter> {
    const promise = new Promise<DeadLetter>((resolve) => this.waiters.push({ filter, resolve }));
    const [found] = await this.list(filter, 10_000);
    if (found) {
      this.waiters = this.waiters.filter((w) => w.filter !== filter);
      return found;
    }
    return promise;
  }

  /** Dead letters matching `filter` (all when omitted), oldest first, among the first `scan` stored. */
  async list(
    filter: (letter: DeadLetter) => boolean = () => true,
    scan = 10_000,
  ): Promise<DeadLetter[]> {
    return (await this.source.listDeadLetters(scan)).filter(filter);
  }

  /**
   * Redelivers the matching dead letters to the group that gave up on them, as a first attempt
   * without the failure headers, then removes them. Returns how many were replayed.
   */
  async replay(
    filter: (letter: DeadLetter) => boolean = () => true,
    scan = 10_000,
  ): Promise<number> {
    const chosen = await this.list(filter, scan);
    for (const letter of chosen) {
      const headers = Object.fromEntries(
        Object.entries(letter.headers).filter(([k]) => !FAILURE_HEADERS.has(k)),
      );
      await this.source.redeliver(letter.group, {
        type: letter.type,
        body: letter.body,
        headers: { ...headers, 'x-replayed': 'true' },
        ...(headers['x-message-key'] ? { key: headers['x-message-key'] } : {}),
      });
      await this.source.removeDeadLetters([letter]);
    }
    return chosen.length;
  }
}
