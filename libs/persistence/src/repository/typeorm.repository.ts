import {
  In,
  IsNull,
  LessThan,
  LessThanOrEqual,
  Like,
  MoreThan,
  MoreThanOrEqual,
  Not,
  And,
  type EntityMetadata,
  type EntityTarget,
  type FindOptionsWhere,
  type ObjectLiteral,
  type Repository as OrmRepository,
  type SelectQueryBuilder,
} from 'typeorm';
import { RawSqlResultsToEntityTransformer } from 'typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer.js';
import { translateConnectionErrors as guard } from '../connection-errors.js';
import { ConcurrencyError, InvalidCursorError } from '../errors.js';
import { preparedRead, supportsPreparedReads } from '../prepared-read.js';

import type { UnitOfWork } from '../transactions/unit-of-work.js';
import {
  Repository,
  Specification,
  type Criteria,
  type Page,
  type PageRequest,
} from './repository.js';

const MAX_LIMIT = 500;

/** Longest id a cursor may carry (characters of a string id). */
const MAX_CURSOR_ID_LENGTH = 512;

function encodeCursor(id: unknown): string {
  return Buffer.from(JSON.stringify(id)).toString('base64url');
}

/** What the primary column holds, so a cursor's id is checked before the database sees it. */
type IdKind = 'number' | 'digits' | 'uuid' | 'string';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id in a cursor this repository issued, strictly checked: canonical base64url of the JSON of
 * one id of the column's kind (a finite number; a string of digits for bigint columns, which
 * drivers return as strings; a UUID; or a string without NUL of at most 512 characters). Any
 * other input is {@link InvalidCursorError} (400), never a value handed to the database.
 */
const invalid = () => new InvalidCursorError('cursor is not one this API returned');

function decodeCursor(cursor: string, kind: IdKind): string | number {
  if (cursor.length > 4 * MAX_CURSOR_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let id: unknown;
  try {
    id = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (encodeCursor(id) !== cursor) throw invalid();
  const ok =
    kind === 'number'
      ? typeof id === 'number' && Number.isFinite(id)
      : typeof id === 'string' &&
        id.length <= MAX_CURSOR_ID_LENGTH &&
        !id.includes('\0') &&
        (kind === 'string' || (kind === 'uuid' ? UUID.test(id) : /^-?\d{1,20}$/.test(id)));
  if (!ok) throw invalid();
  return id as string | number;
}

function toWhere<T>(criteria: Criteria<T>): FindOptionsWhere<T> {
  const where: Record<string, unknown> = {};
  for (const [field, condition] of Object.entries(criteria as Record<string, unknown>)) {
    if (condition === undefined) continue;
    if (condition !== null && typeof condition === 'object' && !(condition instanceof Date)) {
      const c = condition as Record<string, unknown>;
      if ('in' in c) where[field] = In(c.in as unknown[]);
      else if ('like' in c) where[field] = Like(c.like as string);
      else if ('isNull' in c) where[field] = c.isNull ? IsNull() : Not(IsNull());
      else {
        const ops = [
          c.gt !== undefined ? MoreThan(c.gt) : undefined,
          c.gte !== undefined ? MoreThanOrEqual(c.gte) : undefined,
          c.lt !== undefined ? LessThan(c.lt) : undefined,
          c.lte !== undefined ? LessThanOrEqual(c.lte) : undefined,
        ].filter((o) => o !== undefined);
        where[field] = ops.length === 1 ? ops[0] : And(...(ops as never[]));
      }
    } else {
      where[field] = condition;
    }
  }
  return where as FindOptionsWhere<T>;
}

/**
 * The point read of an entity, prepared once: the SQL TypeORM's query builder generates for
 * `findById`, and its transformer, which hydrates rows exactly as `getOne()` does (column →
 * property, transformers, dates, embedded). `undefined` when the entity needs more than that
 * query and that transformer (relation ids, `@AfterLoad` listeners, a `query` relation strategy):
 * those keep the query-builder path.
 */
interface PointRead {
  sql: string;
  hydrate: (rows: unknown[]) => ObjectLiteral[];
}
const pointReads = new WeakMap<EntityMetadata, PointRead | null>();

function pointReadOf(
  metadata: EntityMetadata,
  build: () => SelectQueryBuilder<ObjectLiteral>,
): PointRead | undefined {
  let plan = pointReads.get(metadata);
  if (plan === undefined) {
    const qb = build();
    const map = qb.expressionMap;
    const simple =
      metadata.relationIds.length === 0 &&
      metadata.afterLoadListeners.length === 0 &&
      map.relationLoadStrategy !== 'query' &&
      map.mainAlias?.hasMetadata === true;
    const [sql] = qb.getQueryAndParameters();
    const transformer = simple
      ? new RawSqlResultsToEntityTransformer(map, qb.connection.driver, [], undefined)
      : undefined;
    plan = transformer
      ? { sql, hydrate: (rows) => transformer.transform(rows, map.mainAlias!) as ObjectLiteral[] }
      : null;
    pointReads.set(metadata, plan);
  }
  return plan ?? undefined;
}

/**
 * The TypeORM adapter of {@link Repository}. Extend it per aggregate; it always works on the
 * current unit of work's transaction when there is one.
 *
 * @example
 * @Injectable()
 * export class OrderRepository extends TypeOrmRepository<OrderEntity, string> {
 *   constructor(uow: UnitOfWork) { super(OrderEntity, uow); }
 * }
 */
export class TypeOrmRepository<T extends ObjectLiteral, Id> extends Repository<T, Id> {
  constructor(
    protected readonly entity: EntityTarget<T>,
    protected readonly uow: UnitOfWork,
  ) {
    super();
  }

  /** The TypeORM repository bound to the current transaction. */
  protected get repo(): OrmRepository<T> {
    return this.uow.manager.getRepository(this.entity);
  }

  private get idProperty(): string {
    const primary = this.repo.metadata.primaryColumns;
    if (primary.length !== 1)
      throw new TypeError(`${this.repo.metadata.name} needs exactly one primary column`);
    return primary[0]!.propertyName;
  }

  /** What the primary column holds (see {@link decodeCursor}). */
  private get idKind(): IdKind {
    const type = this.repo.metadata.primaryColumns[0]!.type;
    if (type === Number) return 'number';
    if (typeof type !== 'string') return 'string';
    if (/^(bigint|int8)$/i.test(type)) return 'digits';
    if (/^uuid$/i.test(type)) return 'uuid';
    // numeric/decimal come back as strings: they stay 'string' (not checked further).
    if (/^(int|integer|tinyint|smallint|mediumint|int2|int4|float|double|real)$/i.test(type)) {
      return 'number';
    }
    return 'string';
  }

  private where(spec?: Specification<T> | Criteria<T>): FindOptionsWhere<T> {
    if (!spec) return {};
    return toWhere(spec instanceof Specification ? spec.criteria : spec);
  }

  findById(id: Id): Promise<T | null> {
    const repo = this.repo;
    const property = this.idProperty;
    const query = (value: unknown) =>
      repo.createQueryBuilder('e').where(`e.${property} = :id`, { id: value });
    // PostgreSQL outside a transaction: a prepared statement on the pool, no QueryRunner (see
    // preparedRead). A function or array id would be inlined or spread by the query builder.
    if (
      repo.manager.queryRunner === undefined &&
      typeof id !== 'function' &&
      !Array.isArray(id) &&
      supportsPreparedReads(repo.manager.connection)
    ) {
      const plan = pointReadOf(repo.metadata, () => query(null));
      if (plan) {
        return preparedRead(repo.manager.connection, plan.sql, [id]).then(
          (rows) => (plan.hydrate(rows)[0] as T | undefined) ?? null,
        );
      }
    }
    // The query builder skips find-options parsing: measurably faster than findOneBy.
    return guard(() => query(id).getOne());
  }

  async findMany(spec?: Specification<T> | Criteria<T>, page: PageRequest = {}): Promise<Page<T>> {
    const limit = Math.min(Math.max(page.limit ?? 20, 1), MAX_LIMIT);
    const id = this.idProperty;
    const where = this.where(spec) as Record<string, unknown>;
    if (page.cursor) {
      if (where[id] !== undefined)
        throw new RangeError(`cannot combine a cursor with a condition on ${id}`);
      where[id] = MoreThan(decodeCursor(page.cursor, this.idKind));
    }
    const items = await guard(() =>
      this.repo.find({
        where: where as FindOptionsWhere<T>,
        order: { [id]: 'ASC' } as never,
        take: limit + 1,
        skip: page.cursor ? undefined : page.offset,
      }),
    );
    const more = items.length > limit;
    if (more) items.pop();
    return more ? { items, nextCursor: encodeCursor(items.at(-1)![id]) } : { items };
  }

  count(spec?: Specification<T> | Criteria<T>): Promise<number> {
    return guard(() => this.repo.countBy(this.where(spec)));
  }

  exists(spec: Specification<T> | Criteria<T>): Promise<boolean> {
    return guard(() => this.repo.existsBy(this.where(spec)));
  }

  save(entity: T): Promise<T> {
    return guard(() => this.saveNow(entity));
  }

  private async saveNow(entity: T): Promise<T> {
    const versionColumn = this.repo.metadata.versionColumn;
    const version = versionColumn
      ? (entity[versionColumn.propertyName] as number | undefined | null)
      : undefined;
    if (!versionColumn || version === undefined || version === null) return this.repo.save(entity);
    // Optimistic lock: update only the version that was read, then bump it.
    const id = entity[this.idProperty] as Id;
    const values: Record<string, unknown> = {};
    for (const column of this.repo.metadata.columns) {
      if (
        column.isPrimary ||
        column === versionColumn ||
        column.isCreateDate ||
        column.isUpdateDate
      )
        continue;
      if (column.relationMetadata) continue;
      values[column.propertyName] = entity[column.propertyName];
    }
    values[versionColumn.propertyName] = version + 1;
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set(values as never)
      .where(`${this.repo.metadata.primaryColumns[0]!.databaseName} = :id`, { id })
      .andWhere(`${versionColumn.databaseName} = :version`, { version })
      .execute();
    if (!result.affected) {
      const current = await this.findById(id);
      throw new ConcurrencyError(
        this.repo.metadata.name,
        id,
        version,
        current ? (current[versionColumn.propertyName] as number) : undefined,
      );
    }
    (entity as Record<string, unknown>)[versionColumn.propertyName] = version + 1;
    return entity;
  }

  saveMany(entities: T[]): Promise<T[]> {
    return this.uow.run(async () => {
      const saved: T[] = [];
      for (const entity of entities) saved.push(await this.save(entity));
      return saved;
    });
  }

  async insertMany(entities: T[], options: { chunkSize?: number } = {}): Promise<void> {
    const chunkSize = options.chunkSize ?? 500;
    if (entities.length === 0) return;
    await this.uow.run(async () => {
      for (let i = 0; i < entities.length; i += chunkSize) {
        await this.repo
          .createQueryBuilder()
          .insert()
          .values(entities.slice(i, i + chunkSize) as never)
          .updateEntity(false)
          .execute();
      }
    });
  }

  async delete(id: Id): Promise<boolean> {
    const result = await guard(() =>
      this.repo.delete({ [this.idProperty]: id } as FindOptionsWhere<T>),
    );
    return (result.affected ?? 0) > 0;
  }
}
