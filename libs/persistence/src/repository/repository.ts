/** A page of results. */
export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** What page to read: keyset (`cursor`) or `offset`, at most `limit` items (1-500, default 20). */
export interface PageRequest {
  limit?: number;
  cursor?: string;
  offset?: number;
}

/** A comparison on one field. */
export type Comparison<V> =
  V | { in: V[] } | { gt?: V; gte?: V; lt?: V; lte?: V } | { like: string } | { isNull: boolean };

/** Field conditions joined by AND: `{ status: 'open', total: { gte: 100 } }`. */
export type Criteria<T> = { [K in keyof T]?: Comparison<T[K]> };

/**
 * A named, reusable query condition domain code can build without importing an ORM.
 * @example const openOrders = Specification.of<Order>({ status: 'open' });
 */
export class Specification<T> {
  private constructor(readonly criteria: Criteria<T>) {}

  static of<T>(criteria: Criteria<T>): Specification<T> {
    return new Specification(criteria);
  }

  /** Both conditions (fields of `other` win on conflict). */
  and(other: Specification<T> | Criteria<T>): Specification<T> {
    const more = other instanceof Specification ? other.criteria : other;
    return new Specification({ ...this.criteria, ...more });
  }
}

/**
 * The repository port: what domain and application code may ask of storage. Adapters (e.g.
 * `TypeOrmRepository`) implement it; the signature names no ORM type.
 */
export abstract class Repository<T, Id> {
  abstract findById(id: Id): Promise<T | null>;
  abstract findMany(spec?: Specification<T> | Criteria<T>, page?: PageRequest): Promise<Page<T>>;
  abstract count(spec?: Specification<T> | Criteria<T>): Promise<number>;
  /** Inserts or updates; with a version column, a stale update throws `ConcurrencyError`. */
  abstract save(entity: T): Promise<T>;
  /** Saves several in one unit of work (all or nothing). */
  abstract saveMany(entities: T[]): Promise<T[]>;
  /** Bulk insert in multi-row chunks (new rows only; fastest path for bulk data). */
  abstract insertMany(entities: T[], options?: { chunkSize?: number }): Promise<void>;
  /** Deletes by id; false when there was nothing to delete. */
  abstract delete(id: Id): Promise<boolean>;
  abstract exists(spec: Specification<T> | Criteria<T>): Promise<boolean>;
}
