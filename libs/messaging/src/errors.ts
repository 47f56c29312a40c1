/**
 * Why a message went to dead letters: the first word of its `x-dead-letter-reason` header
 * (`malformed-envelope: missing type`) and the `reason` label of `dead_letters_total`.
 * - `malformed-envelope`: not JSON, not an object, or without type, id or payload;
 * - `unknown-type`: an envelope of a type this service has no class for;
 * - `unsupported-schema-version`: newer than this service knows, or no upcaster for it;
 * - `invalid-payload`: the payload fails the schema of its event type;
 * - `unhandled-type`: a well-formed message no handler of the group takes, after the grace a
 *   rolling deploy needs (RabbitMQ: `unhandledMaxRequeues`; Kafka retry records at once);
 * - `poison`: a handler threw {@link PoisonMessageError} itself;
 * - `retries-exhausted`: the handler failed on every attempt.
 */
export type DeadLetterReason =
  | 'malformed-envelope'
  | 'unknown-type'
  | 'unsupported-schema-version'
  | 'invalid-payload'
  | 'unhandled-type'
  | 'poison'
  | 'retries-exhausted';

/** Every {@link DeadLetterReason}, for bounded metric labels. */
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'malformed-envelope',
  'unknown-type',
  'unsupported-schema-version',
  'invalid-payload',
  'unhandled-type',
  'poison',
  'retries-exhausted',
];

/** Options of {@link PoisonMessageError}. */
export interface PoisonMessageErrorOptions {
  /** @default 'poison' */
  reason?: DeadLetterReason;
  /** What follows the reason in `x-dead-letter-reason`. @default the message */
  detail?: string;
  cause?: unknown;
}

/**
 * A message that can never be handled (malformed, unknown type, failed validation): dead-lettered
 * at once, without retries. Handlers may throw it too (reason `poison`).
 */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
  readonly reason: DeadLetterReason;
  readonly detail: string;

  constructor(message: string, options: PoisonMessageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason ?? 'poison';
    this.detail = options.detail ?? message;
  }

  /** The `x-dead-letter-reason` header value: `<reason>: <detail>`. */
  get deadLetterReason(): string {
    return `${this.reason}: ${this.detail}`;
  }
}

/** A malformed envelope (`malformed-envelope: <detail>`). */
export function malformedEnvelope(detail: string): PoisonMessageError {
  return new PoisonMessageError(`malformed envelope: ${detail}`, {
    reason: 'malformed-envelope',
    detail,
  });
}

/** One failure of a payload against its event's schema. */
export interface EventValidationIssue {
  /** Dotted path in the payload (`lines.0.sku`); empty for the payload itself. */
  path: string;
  message: string;
}

/**
 * An event whose payload fails the schema of its type (`@DomainEventType(type, { schema })`):
 * thrown by `EventBus.publish` before anything is written to the outbox or the broker.
 */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';

  constructor(
    /** The event type (`orders.OrderPlaced`). */
    readonly type: string,
    readonly issues: readonly EventValidationIssue[],
  ) {
    super(`${type}: invalid payload: ${formatIssues(issues)}`);
  }
}

/** `path: message; path: message` (at most 10 issues). */
export function formatIssues(issues: readonly EventValidationIssue[]): string {
  const shown = issues.slice(0, 10).map((i) => `${i.path || '(payload)'}: ${i.message}`);
  if (issues.length > 10) shown.push(`… ${issues.length - 10} more`);
  return shown.join('; ');
}

/** Bad MessagingModule options; the message names the key. */
export class MessagingConfigError extends Error {
  override readonly name = 'MessagingConfigError';
}
