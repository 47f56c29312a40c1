import type { EventEnvelope } from '../event-registry.js';

/** A message as a transport hands it to the consumer pipeline. */
export interface TransportMessage {
  /** The raw body (an envelope, or garbage for poison messages). */
  body: unknown;
  headers: Record<string, string>;
  /** 1 for the first delivery. */
  attempt: number;
}

/** What the consumer pipeline decided. */
export type HandlingOutcome = 'success' | 'retry' | 'dead_letter';

/** The consumer pipeline a transport calls for each delivery of each group. */
export type DeliveryHandler = (
  message: TransportMessage,
) => Promise<{ outcome: HandlingOutcome; delayMs?: number }>;

/** A broker adapter behind the EventBus port. */
export interface Transport {
  readonly name: string;
  publish(
    messages: Array<{ envelope: EventEnvelope; headers: Record<string, string> }>,
  ): Promise<void>;
  /** Raw publish (dead-letter replay, poison tests). */
  publishRaw(type: string, body: unknown, headers: Record<string, string>): Promise<void>;
  subscribe(type: string, group: string, handler: DeliveryHandler): void;
  /** Stops delivering new messages; resolves when in-flight deliveries have finished. */
  close(): Promise<void>;
}
