import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// The time part of the last millisecond an id was made in (`xxxxxxxx-xxxx-`).
let prefixMs = -1;
let prefix = '';

/**
 * UUIDv7: time-ordered, so ids sort by creation. Random bits come from a refilled pool; the hex is
 * built from a byte table (no Buffer, no BigInt per id: this runs once per published event).
 */
export function uuidv7(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const o = offset;
  offset += 16;
  const ms = Date.now();
  if (ms !== prefixMs) {
    // 48-bit Unix ms (12 hex digits until the year 10889).
    const time = ms.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-`;
    prefixMs = ms;
  }
  const b = pool;
  return (
    prefix +
    `${HEX[(b[o + 6]! & 0x0f) | 0x70]}${HEX[b[o + 7]!]}-` +
    `${HEX[(b[o + 8]! & 0x3f) | 0x80]}${HEX[b[o + 9]!]}-` +
    `${HEX[b[o + 10]!]}${HEX[b[o + 11]!]}${HEX[b[o + 12]!]}${HEX[b[o + 13]!]}${HEX[b[o + 14]!]}${HEX[b[o + 15]!]}`
  );
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
