import { Injectable } from '@nestjs/common';
import type { Transport } from './transports/transport.js';

/** A message that exhausted its retries or could never be handled. */
export interface DeadLetter {
  body: unknown;
  /** Original headers plus `x-exception-message`, `x-exception-type`, `x-attempts`, `x-original-destination`, `x-failed-at`. */
  headers: Record<string, string>;
  /** `<type>` the message was published as. */
  destination: string;
  /** Consumer group that gave up on it. */
  group: string;
}

/**
 * The dead-letter destination of the memory transport, and replay: `deadLetters.replay(filter)`
 * republishes matching messages (to every group, as a fresh delivery) and removes them.
 */
@Injectable()
export class DeadLetters {
  private readonly letters: DeadLetter[] = [];
  private transport?: Transport;

  /** @internal */
  attach(transport: Transport): void {
    this.transport = transport;
  }

  private waiters: Array<{
    filter: (letter: DeadLetter) => boolean;
    resolve: (letter: DeadLetter) => void;
  }> = [];

  /** @internal */
  add(letter: DeadLetter): void {
    this.letters.push(letter);
    const ready = this.waiters.filter((w) => w.filter(letter));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(letter);
  }

  /** Resolves with the first dead letter matching `filter`, already there or still to come (tests, tooling). */
  next(filter: (letter: DeadLetter) => boolean = () => true): Promise<DeadLetter> {
    const found = this.letters.find(filter);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ filter, resolve }));
  }

  /** Dead letters matching `filter` (all when omitted). */
  list(filter: (letter: DeadLetter) => boolean = () => true): DeadLetter[] {
    return this.letters.filter(filter);
  }

  /** Republishes the matching dead letters without the failure headers; returns how many. */
  async replay(filter: (letter: DeadLetter) => boolean = () => true): Promise<number> {
    if (!this.transport) throw new Error('DeadLetters: no transport attached');
    const chosen = this.letters.filter(filter);
    for (const letter of chosen) {
      this.letters.splice(this.letters.indexOf(letter), 1);
      const headers = Object.fromEntries(
        Object.entries(letter.headers).filter(
          ([k]) =>
            !k.startsWith('x-exception') &&
            !['x-attempts', 'x-failed-at', 'x-original-destination'].includes(k),
        ),
      );
      await this.transport.publishRaw(letter.destination, letter.body, {
        ...headers,
        'x-replayed': 'true',
      });
    }
    return chosen.length;
  }
}
