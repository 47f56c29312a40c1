import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

/** UUIDv7: time-ordered, so ids sort by creation. Random bits come from a refilled pool. */
export function uuidv7(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + 16));
  offset += 16;
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Fields every event carries besides its payload. */
export interface DomainEventInit {
  id?: string;
  occurredAt?: Date;
  aggregateId?: string;
  aggregateType?: string;
  /** Aggregate version after this event (ordering per aggregate). */
  version?: number;
  metadata?: Record<string, string>;
}

/**
 * Base of domain events. Subclass it, decorate the subclass with `@DomainEventType('OrderPlaced')`
 * and add your payload fields; consumers receive instances of your class.
 *
 * @example
 * @DomainEventType('OrderPlaced')
 * export class OrderPlaced extends DomainEvent {
 *   constructor(readonly orderId: string, readonly totalCents: number, init?: DomainEventInit) {
 *     super({ aggregateId: orderId, aggregateType: 'Order', ...init });
 *   }
 * }
 */
export abstract class DomainEvent {
  readonly id: string;
  readonly occurredAt: Date;
  readonly aggregateId?: string;
  readonly aggregateType?: string;
  readonly version?: number;
  readonly metadata: Record<string, string>;

  protected constructor(init: DomainEventInit = {}) {
    this.id = init.id ?? uuidv7();
    this.occurredAt = init.occurredAt ?? new Date();
    this.aggregateId = init.aggregateId;
    this.aggregateType = init.aggregateType;
    this.version = init.version;
    this.metadata = init.metadata ?? {};
  }
}

/** A class of domain event. */
export type DomainEventClass<E extends DomainEvent = DomainEvent> = abstract new (
  ...args: any[]
) => E;
