import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  DatabaseUnavailableError,
  InvalidCursorError,
  PersistenceModule,
  Specification,
  UnsupportedPropagationError,
} from '@infrastructure/persistence';
import { TestDatabase } from '@infrastructure/testing';
import { Account, AccountRepository, AccountService, Boom, account } from './fixtures.js';

const SERVERS = {
  sqlite: 'sqlite:',
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mariadb: 'mariadb://root@127.0.0.1:3306/test',
} as const;

const b64 = (text: string) => Buffer.from(text).toString('base64url');

/** One throwaway database and app per describe block. */
function useAccounts(url: string) {
  const ctx = {} as {
    db: TestDatabase;
    ref: TestingModule;
    repo: AccountRepository;
    service: AccountService;
  };
  beforeAll(async () => {
    ctx.db = await TestDatabase.create({ url, entities: [Account] });
    ctx.ref = await Test.createTestingModule({
      imports: [PersistenceModule.forRoot(ctx.db.moduleOptions())],
      providers: [AccountRepository, AccountService],
    }).compile();
    await ctx.ref.init();
    ctx.repo = ctx.ref.get(AccountRepository);
    ctx.service = ctx.ref.get(AccountService);
  });
  afterAll(async () => {
    await ctx.ref?.close();
    await ctx.db?.destroy();
  });
  beforeEach(async () => {
    await ctx.db.truncateAll();
    ctx.service.committed.length = 0;
  });
  return ctx;
}

describe.each(Object.entries(SERVERS))('persistence on %s', (_kind, url) => {
  const ctx = useAccounts(url);
  let repo: AccountRepository;
  let service: AccountService;
  beforeAll(() => {
    repo = ctx.repo;
    service = ctx.service;
  });

  describe('repository', () => {
    it('saves, finds, counts, checks existence and deletes', async () => {
      await repo.save(account('a1', 10));
      expect(await repo.findById('a1')).toMatchObject({ id: 'a1', balance: 10, version: 1 });
      expect(await repo.findById('nope')).toBeNull();
      // The point read's own hydration matches TypeORM's (same instance type, same values).
      const fast = await repo.findById('a1');
      expect(fast).toBeInstanceOf(Account);
      expect(fast).toEqual((await repo.findMany({ id: 'a1' })).items[0]);
      expect(await repo.count()).toBe(1);
      expect(await repo.exists({ owner: 'ann' })).toBe(true);
      expect(await repo.delete('a1')).toBe(true);
      expect(await repo.delete('a1')).toBe(false);
    });

    it('bulk-inserts in chunks and pages through with a cursor, and with an offset', async () => {
      const rows = Array.from({ length: 25 }, (_, i) =>
        account(`acc-${String(i).padStart(3, '0')}`, i),
      );
      await repo.insertMany(rows, { chunkSize: 7 });
      expect(await repo.count()).toBe(25);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await repo.findMany(undefined, { limit: 10, cursor });
        seen.push(...page.items.map((a) => a.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(rows.map((r) => r.id));
      const third = await repo.findMany(undefined, { limit: 5, offset: 10 });
      expect(third.items.map((a) => a.balance)).toEqual([10, 11, 12, 13, 14]);
    });

    it('refuses a cursor it never issued with InvalidCursorError (400), never a database error', async () => {
      await repo.insertMany([account('c1', 1), account('c2', 2), account('c3', 3)]);
      const issued = (await repo.findMany(undefined, { limit: 1 })).nextCursor!;
      expect((await repo.findMany(undefined, { limit: 1, cursor: issued })).items[0]?.id).toBe(
        'c2',
      );
      const forged = [
        b64('{"a":1}'),
        b64('[1,2]'),
        b64('null'),
        b64('true'),
        b64('1e400'),
        b64(JSON.stringify('x'.repeat(5_000))),
        b64('"c1\u0000"'),
        'not a cursor!',
        `${issued}=`,
        `${issued}AAAA`,
      ];
      for (const cursor of forged) {
        const error = await repo.findMany(undefined, { cursor }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ cursor, error }).toMatchObject({
          cursor,
          error: { name: 'InvalidCursorError', httpStatus: 400, publicMessage: 'Invalid cursor' },
        });
        expect(error).toBeInstanceOf(InvalidCursorError);
      }
    });

    it('filters with criteria and specifications', async () => {
      await repo.insertMany([
        account('x1', 5, 'bob'),
        account('x2', 50, 'bob'),
        account('x3', 500, 'cy'),
      ]);
      const rich = Specification.of<Account>({ balance: { gte: 50 } });
      expect((await repo.findMany(rich)).items.map((a) => a.id)).toEqual(['x2', 'x3']);
      expect((await repo.findMany(rich.and({ owner: 'bob' }))).items.map((a) => a.id)).toEqual([
        'x2',
      ]);
      expect((await repo.findMany({ id: { in: ['x1', 'x3'] } })).items.map((a) => a.id)).toEqual([
        'x1',
        'x3',
      ]);
      expect(await repo.count({ balance: { gt: 5, lt: 500 } })).toBe(1);
      expect(await repo.count({ owner: { like: 'b%' } })).toBe(2);
    });

    it('raises ConcurrencyError on a stale update (optimistic lock)', async () => {
      await repo.save(account('v1', 10));
      const first = (await repo.findById('v1'))!;
      const second = (await repo.findById('v1'))!;
      first.balance = 20;
      await repo.save(first);
      expect(first.version).toBe(2);
      second.balance = 30;
      const error = await repo.save(second).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      expect((await repo.findById('v1'))!.balance).toBe(20);
    });
  });

  describe('unit of work', () => {
    it('commits, then runs after-commit callbacks', async () => {
      await service.open('c1', 1);
      expect(await repo.exists({ id: 'c1' })).toBe(true);
      expect(service.committed).toEqual(['c1']);
    });

    it('rolls back on a thrown error, and skips after-commit callbacks', async () => {
      await expect(service.open('r1', 1, true)).rejects.toBeInstanceOf(Boom);
      expect(await repo.exists({ id: 'r1' })).toBe(false);
      expect(service.committed).toEqual([]);
    });

    it('joins nested @Transactional calls into the outer transaction: an error rolls back both writes', async () => {
      await expect(service.openTwo('n1', 'n2', true)).rejects.toBeInstanceOf(Boom);
      expect(await repo.count()).toBe(0);
      expect(service.committed).toEqual([]);
      await service.openTwo('n3', 'n4');
      expect(await repo.count()).toBe(2);
      expect(service.committed).toEqual(['n3', 'n4']); // after the outer commit, in order
    });

    it('saveMany is all or nothing', async () => {
      await repo.save(account('dup', 1));
      const stale = account('dup', 2);
      stale.version = 7; // wrong version → ConcurrencyError in the middle
      await expect(
        repo.saveMany([account('m1', 1), stale, account('m2', 2)]),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await repo.exists({ id: 'm1' })).toBe(false);
    });
  });
});

describe.each([
  ['postgres', SERVERS.postgres],
  ['mariadb', SERVERS.mariadb],
])('requiresNew on %s', (_kind, url) => {
  const ctx = useAccounts(url);
  it('commits requiresNew independently of the outer transaction', async () => {
    await expect(ctx.service.openWithAuditThenFail('s1', 'audit-1')).rejects.toBeInstanceOf(Boom);
    expect(await ctx.repo.exists({ id: 's1' })).toBe(false);
    expect(await ctx.repo.exists({ id: 'audit-1' })).toBe(true);
  });
});

describe('requiresNew on sqlite', () => {
  const ctx = useAccounts(SERVERS.sqlite);
  it('refuses requiresNew inside a transaction instead of silently making it a savepoint', async () => {
    await expect(ctx.service.openWithAuditThenFail('s1', 'audit-1')).rejects.toBeInstanceOf(
      UnsupportedPropagationError,
    );
    expect(await ctx.repo.count()).toBe(0);
  });
});

describe('connection errors', () => {
  it('fails with the accepted schemes when DATABASE_URL has a wrong scheme', async () => {
    const compile = Test.createTestingModule({
      imports: [PersistenceModule.forRoot({ url: 'redis://localhost:6379/0' })],
    }).compile();
    await expect(compile).rejects.toThrow(
      'DATABASE_URL has an unsupported scheme; expected a URL starting with sqlite:, postgres://, postgresql://, mysql://, mariadb://, got "redis://localhost:6379/0"',
    );
  });

  it('retries, then fails naming host:port and never the password', async () => {
    const compile = Test.createTestingModule({
      imports: [
        PersistenceModule.forRoot({
          url: 'postgres://app:s3cret-pw@127.0.0.1:1/app',
          connectRetry: { attempts: 2, initialDelayMs: 10 },
        }),
      ],
    }).compile();
    const error = await compile.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(
      /^cannot connect to postgres at 127\.0\.0\.1:1 \(database "app"\) after 2 attempt\(s\)/,
    );
    expect((error as Error).message).not.toContain('s3cret-pw');
  });
});
