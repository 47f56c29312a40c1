import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditRowHash, canonicalJson, GENESIS_HASH, type AuditRow } from './audit-chain.js';

describe('audit chain hashing', () => {
  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ when: new Date(0) })).toBe('{"when":"1970-01-01T00:00:00.000Z"}');
  });

  it('hashes sha256(prev_hash + canonical JSON of the row) and changes with any column', () => {
    const row: AuditRow = {
      id: 1,
      occurredAt: 1_700_000_000_000,
      action: 'auth.login',
      outcome: 'success',
      actor: 'user:1',
      target: null,
      correlationId: 'c-1',
      metadata: '{}',
      prevHash: GENESIS_HASH,
    };
    const expected = createHash('sha256')
      .update(
        GENESIS_HASH +
          '{"action":"auth.login","actor":"user:1","correlationId":"c-1","id":1,"metadata":"{}","occurredAt":1700000000000,"outcome":"success","target":null}',
      )
      .digest('hex');
    expect(auditRowHash(row)).toBe(expected);
    for (const change of [
      { id: 2 },
      { actor: 'user:2' },
      { metadata: '{"a":1}' },
      { prevHash: '1'.repeat(64) },
    ]) {
      expect(auditRowHash({ ...row, ...change })).not.toBe(expected);
    }
  });
});
