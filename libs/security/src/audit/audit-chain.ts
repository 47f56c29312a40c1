import { createHash } from 'node:crypto';

/** `prev_hash` of the first row: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns of one audit row that the hash covers (all of them but `hash`). */
export interface AuditRow {
  id: number;
  occurredAt: number;
  action: string;
  outcome: string;
  actor: string | null;
  target: string | null;
  correlationId: string | null;
  /** Canonical JSON text, as stored. */
  metadata: string;
  prevHash: string;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    out[key] = sortKeys((value as Record<string, unknown>)[key]);
  }
  return out;
}

/**
 * JSON with object keys sorted at every depth and no whitespace, after the usual JSON rules
 * (`toJSON`, `undefined` dropped): the same data always gives the same text, so hashes over it
 * can be recomputed.
 */
export function canonicalJson(value: unknown): string {
  const plain = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  return JSON.stringify(sortKeys(plain));
}

/** `sha256(prev_hash + canonical JSON of the row without prev_hash)`, hex. */
export function auditRowHash(row: AuditRow): string {
  const { prevHash, ...content } = row;
  return createHash('sha256').update(prevHash).update(canonicalJson(content)).digest('hex');
}
