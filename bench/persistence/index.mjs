// PostgreSQL, one run: bulk insert of 50k rows through the repository (insertMany, chunked
// multi-row inserts in one unit of work) vs raw `pg` multi-row inserts in one transaction; point
// reads through the repository (findById) vs raw `pg` parameterised SELECTs (the goal's baseline;
// also shown: raw `pg` with a named prepared statement, what the repository's PostgreSQL point read
// sends outside a transaction). Ratios are what count.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';
import { EntitySchema } from 'typeorm';
import { buildSampleApi } from '../lib.mjs';

const URL_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const READS = Number(process.env.BENCH_READS ?? 5_000);
const READ_ROUNDS = 6;
const CHUNK = 500;

buildSampleApi();
const { PersistenceModule, TypeOrmRepository, UnitOfWork } =
  await import('@infrastructure/persistence');

const schema = `bench_${randomBytes(4).toString('hex')}`;
const admin = new Pool({ connectionString: URL_BASE, max: 2 });
await admin.query(`CREATE SCHEMA ${schema}`);
const ddl = (table) =>
  `CREATE TABLE ${schema}.${table} (id varchar(36) PRIMARY KEY, name varchar(64) NOT NULL, value integer NOT NULL)`;
await admin.query(ddl('raw_rows'));
await admin.query(ddl('repo_rows'));

const RepoRow = new EntitySchema({
  name: 'RepoRow',
  tableName: 'repo_rows',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    name: { type: 'varchar', length: 64 },
    value: { type: 'int' },
  },
});

const rows = Array.from({ length: ROWS }, (_, i) => ({
  id: `row-${String(i).padStart(8, '0')}`,
  name: `name ${i}`,
  value: i,
}));
const rate = (n, s) => `${Math.round(n / s).toLocaleString('en-US')}/s`;
const time = async (fn) => {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
};

try {
  // Raw pg: multi-row INSERTs of CHUNK rows in one transaction.
  const raw = new Pool({
    connectionString: URL_BASE,
    max: 4,
    options: `-c search_path=${schema}`,
  });
  const rawInsert = await time(async () => {
    const c = await raw.connect();
    try {
      await c.query('BEGIN');
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        const values = [];
        const params = chunk.map((r, j) => {
          values.push(r.id, r.name, r.value);
          return `($${j * 3 + 1}, $${j * 3 + 2}, $${j * 3 + 3})`;
        });
        await c.query(`INSERT INTO raw_rows (id, name, value) VALUES ${params.join(', ')}`, values);
      }
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  });

  // Repository: insertMany in one unit of work.
  class BenchModule {}
  Module({
    imports: [
      PersistenceModule.forRoot({
        url: `${URL_BASE}?schema=${schema}`,
        entities: [RepoRow],
        pool: { max: 4 },
      }),
    ],
  })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const repo = new TypeOrmRepository(RepoRow, app.get(UnitOfWork));
  const repoInsert = await time(() => repo.insertMany(rows, { chunkSize: CHUNK }));

  const ids = Array.from({ length: READS }, (_, i) => rows[(i * 7919) % ROWS].id);
  const named = {
    name: 'bench_point_read',
    text: 'SELECT id, name, value FROM raw_rows WHERE id = $1',
  };
  const readers = {
    raw: (id) => raw.query('SELECT id, name, value FROM raw_rows WHERE id = $1', [id]),
    rawNamed: (id) => raw.query({ ...named, values: [id] }),
    repo: (id) => repo.findById(id),
  };
  // Warm-up: every path reads every id once, so no timed read is the first touch of its row (the
  // first read of a freshly inserted row sets its hint bits, a write) and the JITs have settled.
  for (const id of ids) for (const read of Object.values(readers)) await read(id);
  // Interleaved rounds, the order rotated each round, so drift on a shared box hits all three.
  const spent = { raw: 0, rawNamed: 0, repo: 0 };
  const names = Object.keys(readers);
  const per = Math.ceil(ids.length / READ_ROUNDS);
  for (let round = 0; round < READ_ROUNDS; round++) {
    const slice = ids.slice(round * per, (round + 1) * per);
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      spent[name] += await time(async () => {
        for (const id of slice) await readers[name](id);
      });
    }
  }
  const { raw: rawRead, rawNamed: rawNamedRead, repo: repoRead } = spent;
  await app.close();
  await raw.end();

  console.log(
    `\npersistence on PostgreSQL (${URL_BASE.replace(/:[^:@/]*@/, ':***@')}), node ${process.version}`,
  );
  console.log(
    `  insert ${ROWS} rows   raw pg ${rate(ROWS, rawInsert).padStart(10)}   repository insertMany ${rate(ROWS, repoInsert).padStart(10)}   ratio ${(rawInsert / repoInsert).toFixed(2)}x (goal >= 0.5)`,
  );
  console.log(
    `  ${READS} point reads   raw pg ${rate(READS, rawRead).padStart(10)}   repository findById   ${rate(READS, repoRead).padStart(10)}   ratio ${(rawRead / repoRead).toFixed(2)}x (goal >= 0.7)`,
  );
  console.log(
    `  ${READS} point reads   raw pg, named prepared statement ${rate(READS, rawNamedRead).padStart(10)}   repository × that ${(rawNamedRead / repoRead).toFixed(2)}x`,
  );
} finally {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
