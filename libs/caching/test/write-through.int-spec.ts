import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { PersistenceModule, Transactional, UnitOfWork } from '@infrastructure/persistence';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, CachePut, CacheStore, CachingModule } from '../src/index.js';

@Injectable()
class Accounts {
  /** What `get` saw inside the transaction, after the write. */
  seenInside: unknown = 'unset';

  constructor(
    private readonly cache: CacheStore,
    private readonly uow: UnitOfWork,
  ) {}

  @Transactional()
  @CachePut({ key: ([id]: [string, number, boolean?]) => `account:${id}` })
  async deposit(
    id: string,
    balance: number,
    fail = false,
  ): Promise<{ id: string; balance: number }> {
    await this.uow.manager.query('SELECT 1'); // the write
    if (fail) throw new Error('constraint violated');
    this.seenInside = await this.cache.get(`account:${id}`);
    return { id, balance };
  }

  @Transactional()
  @CacheEvict({ keys: ([id]: [string, boolean?]) => `account:${id}` })
  async close(id: string, fail = false): Promise<void> {
    await this.uow.manager.query('SELECT 1');
    if (fail) throw new Error('rolled back');
    this.seenInside = await this.cache.get(`account:${id}`);
  }
}

describe('write-through and eviction with units of work (SQLite)', () => {
  let app: INestApplicationContext;
  let accounts: Accounts;
  let cache: CacheStore;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [PersistenceModule.forRoot({ url: 'sqlite::memory:' }), CachingModule.forRoot()],
      providers: [Accounts],
    }).compile();
    app = await moduleRef.init();
    accounts = app.get(Accounts);
    cache = app.get(CacheStore);
  });

  afterAll(() => app?.close());

  it('@CachePut writes the cache only after the commit', async () => {
    await cache.set('account:1', { id: '1', balance: 0 });
    const result = await accounts.deposit('1', 10);
    expect(accounts.seenInside).toEqual({ id: '1', balance: 0 });
    expect(result).toEqual({ id: '1', balance: 10 });
    expect(await cache.get('account:1')).toEqual({ id: '1', balance: 10 });
  });

  it('@CachePut caches nothing when the transaction rolls back', async () => {
    await cache.set('account:2', { id: '2', balance: 5 });
    await expect(accounts.deposit('2', 99, true)).rejects.toThrow('constraint violated');
    expect(await cache.get('account:2')).toEqual({ id: '2', balance: 5 });
  });

  it('@CacheEvict evicts after the commit, and not at all on rollback', async () => {
    await cache.set('account:3', 'cached');
    await expect(accounts.close('3', true)).rejects.toThrow('rolled back');
    expect(await cache.get('account:3')).toBe('cached');
    await accounts.close('3');
    expect(accounts.seenInside).toBe('cached');
    expect(await cache.get('account:3')).toBeUndefined();
  });
});
