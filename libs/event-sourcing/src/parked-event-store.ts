import type { DataSource, EntityManager } from 'typeorm';
import { SqlDialect } from '@infrastructure/persistence';
import { PARKED_TABLE } from './event-store.migration.js';

/** An event a projection gave up on: it was skipped, and waits here for a replay or a discard. */
export interface ParkedEvent {
  projection: string;
  /** Global position of the event in the store. */
  position: number;
  eventId: string;
  streamId: string;
  /** The event's registered type name. */
  type: string;
  /** The last error's name and message (no stack: messages stay, parameters do not leak). */
  error: string;
  /** How many times the handler failed on it. */
  attempts: number;
  /** When it was parked (epoch ms). */
  parkedAt: number;
}

/** `Name: message`, bounded: what is stored with a parked event and shown by health. */
export function describeError(error: unknown): string {
  const text =
    error instanceof Error
      ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`
      : String(error);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/** Where parked events are kept; writes run in the current unit of work. */
export abstract class ParkedEventStore {
  /** Records a parked event (ignored when that projection already parked that position). */
  abstract park(entry: ParkedEvent): Promise<void>;
  /** Parked events, oldest position first; of one projection when `projection` is given. */
  abstract list(projection?: string, limit?: number): Promise<ParkedEvent[]>;
  abstract get(projection: string, position: number): Promise<ParkedEvent | undefined>;
  /** Records another failed replay. */
  abstract failed(projection: string, position: number, error: string): Promise<void>;
  abstract remove(projection: string, position: number): Promise<void>;
  /** Forgets every parked event of a projection (its rebuild tries them again). */
  abstract removeAll(projection: string): Promise<void>;
}

const key = (projection: string, position: number) => `${projection}\u0000${position}`;

export class MemoryParkedEventStore extends ParkedEventStore {
  private readonly entries = new Map<string, ParkedEvent>();

  async park(entry: ParkedEvent): Promise<void> {
    const k = key(entry.projection, entry.position);
    if (!this.entries.has(k)) this.entries.set(k, { ...entry });
  }
  async list(projection?: string, limit = 1000): Promise<ParkedEvent[]> {
    return [...this.entries.values()]
      .filter((e) => projection === undefined || e.projection === projection)
      .sort((a, b) => a.position - b.position || a.projection.localeCompare(b.projection))
      .slice(0, limit)
      .map((e) => ({ ...e }));
  }
  async get(projection: string, position: number): Promise<ParkedEvent | undefined> {
    const found = this.entries.get(key(projection, position));
    return found && { ...found };
  }
  async failed(projection: string, position: number, error: string): Promise<void> {
    const found = this.entries.get(key(projection, position));
    if (found) Object.assign(found, { error, attempts: found.attempts + 1 });
  }
  async remove(projection: string, position: number): Promise<void> {
    this.entries.delete(key(projection, position));
  }
  async removeAll(projection: string): Promise<void> {
    for (const [k, e] of this.entries) if (e.projection === projection) this.entries.delete(k);
  }
}

interface ParkedRow {
  projection: string;
  position: number | string;
  event_id: string;
  stream_id: string;
  type: string;
  error: string;
  attempts: number | string;
  parked_at: number | string;
}

const COLUMNS = [
  'projection',
  'position',
  'event_id',
  'stream_id',
  'type',
  'error',
  'attempts',
  'parked_at',
] as const;

function fromRow(row: ParkedRow): ParkedEvent {
  return {
    projection: row.projection,
    position: Number(row.position),
    eventId: row.event_id,
    streamId: row.stream_id,
    type: row.type,
    error: row.error,
    attempts: Number(row.attempts),
    parkedAt: Number(row.parked_at),
  };
}

/** Parked events in `event_store_parked`, keyed by (projection, position). */
export class SqlParkedEventStore extends ParkedEventStore {
  private readonly sql: SqlDialect;

  constructor(
    private readonly dataSource: DataSource,
    private readonly manager: () => EntityManager,
  ) {
    super();
    this.sql = new SqlDialect(dataSource);
  }

  private p(i: number): string {
    return this.sql.param(i);
  }

  async park(e: ParkedEvent): Promise<void> {
    await this.sql.execute(
      this.dataSource,
      this.manager(),
      this.sql.insertIgnore(PARKED_TABLE, COLUMNS),
      [e.projection, e.position, e.eventId, e.streamId, e.type, e.error, e.attempts, e.parkedAt],
    );
  }

  async list(projection?: string, limit = 1000): Promise<ParkedEvent[]> {
    const where = projection === undefined ? '' : ` WHERE projection = ${this.p(1)}`;
    const rows = (await this.manager().query(
      `SELECT ${COLUMNS.join(', ')} FROM ${PARKED_TABLE}${where} ORDER BY position, projection LIMIT ${Math.max(1, Math.trunc(limit))}`,
      projection === undefined ? [] : [projection],
    )) as ParkedRow[];
    return rows.map(fromRow);
  }

  async get(projection: string, position: number): Promise<ParkedEvent | undefined> {
    const [row] = (await this.manager().query(
      `SELECT ${COLUMNS.join(', ')} FROM ${PARKED_TABLE} WHERE projection = ${this.p(1)} AND position = ${this.p(2)}`,
      [projection, position],
    )) as ParkedRow[];
    return row && fromRow(row);
  }

  async failed(projection: string, position: number, error: string): Promise<void> {
    await this.manager().query(
      `UPDATE ${PARKED_TABLE} SET error = ${this.p(1)}, attempts = attempts + 1 WHERE projection = ${this.p(2)} AND position = ${this.p(3)}`,
      [error, projection, position],
    );
  }

  async remove(projection: string, position: number): Promise<void> {
    await this.manager().query(
      `DELETE FROM ${PARKED_TABLE} WHERE projection = ${this.p(1)} AND position = ${this.p(2)}`,
      [projection, position],
    );
  }

  async removeAll(projection: string): Promise<void> {
    await this.manager().query(`DELETE FROM ${PARKED_TABLE} WHERE projection = ${this.p(1)}`, [
      projection,
    ]);
  }
}
