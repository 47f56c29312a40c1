import { describe, expect, it } from 'vitest';
import { loadDriver, loadOptional, MissingDependencyError } from './drivers.js';

const missing = async (): Promise<never> => {
  throw Object.assign(new Error("Cannot find package 'pg' imported from x"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
};
const broken = async (): Promise<never> => {
  throw new Error('native binding failed');
};

describe('optional drivers', () => {
  it('throws the exact npm install line when a driver is missing', async () => {
    await expect(
      loadDriver('pg', 'PersistenceModule (DATABASE_URL postgres)', missing),
    ).rejects.toThrow(
      new MissingDependencyError('pg', 'PersistenceModule (DATABASE_URL postgres)'),
    );
    await expect(loadDriver('pg', 'x', missing)).rejects.toThrow('Run: npm install pg');
  });

  it('rethrows a driver that is installed but broken', async () => {
    await expect(loadDriver('better-sqlite3', 'x', broken)).rejects.toThrow(
      'native binding failed',
    );
  });

  it('loadOptional: undefined when the package is missing, its module when present, broken rethrows', async () => {
    await expect(loadOptional('pg', missing)).resolves.toBeUndefined();
    await expect(loadOptional('node:path')).resolves.toHaveProperty('join');
    await expect(loadOptional('better-sqlite3', broken)).rejects.toThrow('native binding failed');
  });
});
