import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

// Char codes of the hex digits, and of each byte's high and low digit.
const DIGITS = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const HIGH = Uint8Array.from({ length: 256 }, (_, i) => DIGITS[i >> 4]!);
const LOW = Uint8Array.from({ length: 256 }, (_, i) => DIGITS[i & 15]!);
const DASH = 45;
const SEVEN = 55;

// The 12 hex digits of the last millisecond an id was made in.
let timeMs = -1;
const time = new Uint8Array(12);

/**
 * UUIDv7: time-ordered, so ids sort by creation. Random bits come from a refilled pool; the text
 * is made in one `String.fromCharCode` from byte tables (this runs once per published event:
 * concatenating the 36 characters allocated a string per step).
 */
export function uuidv7(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const o = offset;
  offset += 16;
  const ms = Date.now();
  if (ms !== timeMs) {
    // 48-bit Unix ms: 12 hex digits until the year 10889.
    let rest = ms;
    for (let i = 11; i >= 0; i--) {
      time[i] = DIGITS[rest % 16]!;
      rest = Math.floor(rest / 16);
    }
    timeMs = ms;
  }
  const t = time;
  const b = pool;
  return String.fromCharCode(
    t[0]!,
    t[1]!,
    t[2]!,
    t[3]!,
    t[4]!,
    t[5]!,
    t[6]!,
    t[7]!,
    DASH,
    t[8]!,
    t[9]!,
    t[10]!,
    t[11]!,
    DASH,
    // version 7, then 12 random bits
    SEVEN,
    LOW[b[o + 6]!]!,
    HIGH[b[o + 7]!]!,
    LOW[b[o + 7]!]!,
    DASH,
    // variant 0b10 and 2 random bits (bits 4-5 of the byte, its low 4 are the next digit), then
    // the other 60 of rand_b's 62
    DIGITS[((b[o + 8]! >> 4) & 0x3) | 0x8]!,
    LOW[b[o + 8]!]!,
    HIGH[b[o + 9]!]!,
    LOW[b[o + 9]!]!,
    DASH,
    HIGH[b[o + 10]!]!,
    LOW[b[o + 10]!]!,
    HIGH[b[o + 11]!]!,
    LOW[b[o + 11]!]!,
    HIGH[b[o + 12]!]!,
    LOW[b[o + 12]!]!,
    HIGH[b[o + 13]!]!,
    LOW[b[o + 13]!]!,
    HIGH[b[o + 14]!]!,
    LOW[b[o + 14]!]!,
    HIGH[b[o + 15]!]!,
    LOW[b[o + 15]!]!,
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
