import type { DeadLetterRecord } from './transport.js';

/**
 * A delivery that reached a group's destination but matches none of its subscriptions (RabbitMQ's
 * group queue, Kafka's retry topic): is it a message of ours whose type this process does not
 * handle (a rolling deploy: another version bound it), or something that never was one?
 * Ours means: a declared type (transport metadata, else the envelope's `type`), an id (header,
 * else the envelope's `id`) and a JSON body. Anything else is a defect, dead-lettered at once.
 */
export function inspectUnrouted(
  body: string,
  declared: { type?: string; id?: string },
): { defect: string } | { type: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body) as unknown;
  } catch {
    return { defect: 'body is not JSON' };
  }
  const envelope =
    parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  const type = declared.type || nonEmpty(envelope?.type);
  if (!type) return { defect: 'missing type' };
  if (!(declared.id || nonEmpty(envelope?.id))) return { defect: 'missing id' };
  return { type };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The failure headers of a dead letter a transport decides on itself. */
export function transportFailureHeaders(failure: {
  message: string;
  errorType: string;
  reason: string;
  attempts: number;
  type: string;
  group: string;
}): Record<string, string> {
  return {
    'x-exception-message': failure.message.slice(0, 1000),
    'x-exception-type': failure.errorType,
    'x-dead-letter-reason': failure.reason.slice(0, 1000),
    'x-attempts': String(failure.attempts),
    'x-original-destination': `${failure.type}#${failure.group}`,
    'x-failed-at': new Date().toISOString(),
  };
}

/** Where a transport stores the dead letters it decides on itself (see `SubscribeOptions`). */
export type DeadLetterSink = (letter: Omit<DeadLetterRecord, 'id'>) => Promise<void>;
