import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringModule } from '@infrastructure/monitoring';
import { LogCapture, TestDatabase, testMonitoringOptions } from '@infrastructure/testing';
import {
  DecryptionError,
  Encryptor,
  encryptedColumn,
  PasswordHasher,
} from '../src/crypto/index.js';

const encryptor = new Encryptor({ keys: [{ kid: 'k1', key: Encryptor.generateKey() }] });

@Entity('sec_customers')
class Customer {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({
    name: 'tax_id',
    type: 'text',
    nullable: true,
    transformer: encryptedColumn(encryptor, { aad: 'customers.tax_id' }),
  })
  taxId!: string | null;

  @Column({
    name: 'note',
    type: 'text',
    nullable: true,
    transformer: encryptedColumn(encryptor, { aad: 'customers.note' }),
  })
  note!: string | null;
}

const servers = [
  ['SQLite', 'sqlite:'],
  ['PostgreSQL', 'postgres://postgres@127.0.0.1:5432/test'],
  ['MariaDB', 'mysql://root@127.0.0.1:3306/test'],
] as const;

describe.each(servers)('encryptedColumn on %s', (_label, server) => {
  let db: TestDatabase;
  const raw = async (id: string) => {
    const p = db.dataSource.options.type === 'postgres' ? '$1' : '?';
    const [row] = (await db.dataSource.query(
      `SELECT tax_id, note FROM sec_customers WHERE id = ${p}`,
      [id],
    )) as Array<{ tax_id: string | null; note: string | null }>;
    return row!;
  };

  beforeAll(async () => {
    db = await TestDatabase.create({ url: server, entities: [Customer] });
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
  });

  it('stores the value encrypted, reads it back decrypted, keeps null as null', async () => {
    const repo = db.dataSource.getRepository(Customer);
    const id = randomUUID();
    await repo.save(repo.create({ id, name: 'Ann', taxId: 'DE-123456789', note: null }));
    const stored = await raw(id);
    expect(stored.tax_id).toMatch(/^v1:[\w.-]+:[\w-]{16}:[\w-]+:[\w-]{22}$/);
    expect(stored.tax_id!.split(':')[1]).toBe(encryptor.activeKid);
    expect(stored.tax_id).not.toContain('123456789');
    expect(stored.note).toBeNull();
    const loaded = await repo.findOneByOrFail({ id });
    expect(loaded.taxId).toBe('DE-123456789');
    expect(loaded.note).toBeNull();
  });

  it('keeps old rows readable after a key rotation and re-encrypts them on save', async () => {
    const repo = db.dataSource.getRepository(Customer);
    const id = randomUUID();
    await repo.save(repo.create({ id, name: 'Bo', taxId: 'FR-1', note: 'vip' }));
    // A re-encryption job over the raw column: the value moves to the active key.
    const before = await raw(id);
    const kid = encryptor.activeKid;
    encryptor.rotate({ kid: `${kid}-next`, key: Encryptor.generateKey() });
    expect((await repo.findOneByOrFail({ id })).taxId).toBe('FR-1');
    const moved = encryptor.reencrypt(before.tax_id!, { aad: 'customers.tax_id' });
    expect(moved.split(':')[1]).toBe(`${kid}-next`);
    const loaded = await repo.findOneByOrFail({ id });
    loaded.name = 'Bob';
    await repo.save(loaded);
    expect((await raw(id)).tax_id!.split(':')[1]).toBe(`${kid}-next`);
    expect((await repo.findOneByOrFail({ id })).taxId).toBe('FR-1');
  });

  it('refuses a ciphertext copied into another column (associated data)', async () => {
    const repo = db.dataSource.getRepository(Customer);
    const id = randomUUID();
    await repo.save(repo.create({ id, name: 'Cy', taxId: 'IT-9', note: 'n' }));
    const p = db.dataSource.options.type === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    await db.dataSource.query(`UPDATE sec_customers SET note = ${p[0]} WHERE id = ${p[1]}`, [
      (await raw(id)).tax_id,
      id,
    ]);
    const error = await repo.findOneByOrFail({ id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as Error).message).not.toContain('IT-9');
  });
});

describe('PasswordHasher defaults', () => {
  let ref: TestingModule;
  const logs = new LogCapture();

  beforeAll(async () => {
    ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({
            logging: { level: 'debug', destination: logs },
          }),
        ),
      ],
    }).compile();
    await ref.init();
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('argon2id with m=19456, t=2, p=1 by default, verified and not in need of a rehash', async () => {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await hasher.verify('correct horse battery staple', hash)).toBe(true);
    expect(hasher.needsRehash(hash)).toBe(false);
  });

  it('scrypt with N=2^15 (maxmem raised) when configured', async () => {
    const hasher = new PasswordHasher({ algorithm: 'scrypt' });
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(await hasher.verify('correct horse battery staple', hash)).toBe(true);
  });

  it('logs why a stored hash was rejected at debug, without the password or the hash', async () => {
    const hasher = new PasswordHasher();
    logs.clear();
    expect(await hasher.verify('pw-not-logged', '$argon2id$v=19$garbage-hash-text')).toBe(false);
    const records = logs.records;
    expect(records).toContainEqual(
      expect.objectContaining({
        level: 'debug',
        context: 'PasswordHasher',
        msg: 'password verification failed: malformed hash',
        reason: 'not a PHC string',
      }),
    );
    expect(logs.text).not.toContain('pw-not-logged');
    expect(logs.text).not.toContain('garbage-hash-text');
  });
});
