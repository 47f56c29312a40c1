import type { DataSource, Migration } from 'typeorm';

const LOCK_NAME = 'infrastructure:migrations';

/**
 * Runs pending migrations while holding a database-wide lock (PostgreSQL advisory lock, MariaDB
 * `GET_LOCK`), so instances starting together do not both migrate: the second waits, then finds
 * nothing pending. SQLite serialises writers itself. Each migration runs in its own transaction.
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  lockTimeoutMs = 60_000,
): Promise<Migration[]> {
  const type = dataSource.options.type;
  if (type !== 'postgres' && type !== 'mysql' && type !== 'mariadb') {
    return dataSource.runMigrations({ transaction: 'each' });
  }
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    if (type === 'postgres') {
      await runner.query(`SET lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      await runner.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_NAME]);
    } else {
      const [row] = (await runner.query('SELECT GET_LOCK(?, ?) AS locked', [
        LOCK_NAME,
        Math.ceil(lockTimeoutMs / 1000),
      ])) as Array<{ locked: number | string }>;
      if (Number(row?.locked) !== 1)
        throw new Error(`could not take the migration lock within ${lockTimeoutMs} ms`);
    }
    try {
      return await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      if (type === 'postgres')
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_NAME]);
      else await runner.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    }
  } finally {
    await runner.release();
  }
}
