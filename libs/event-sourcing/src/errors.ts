import { ConcurrencyError } from '@infrastructure/persistence';
import type { ExpectedVersion } from './event-store.js';

/**
 * An append found the stream at another version than expected (someone else appended first).
 * A `ConcurrencyError` of the persistence lib, answered 409 over HTTP.
 */
export class StreamConcurrencyError extends ConcurrencyError {
  override readonly name: string = 'StreamConcurrencyError';
  readonly httpStatus = 409;
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(
      'stream',
      streamId,
      expected === 'no-stream' ? 0 : expected === 'any' ? -1 : expected,
      actual,
    );
    this.message = `stream ${streamId}: expected version ${String(expected)}, but it is at ${actual === 0 ? 'no-stream (0)' : actual}`;
  }
}

/** Bad EventSourcingModule options or a misused aggregate; the message names the cause. */
export class EventSourcingError extends Error {
  override readonly name = 'EventSourcingError';
}
