import { createHash } from 'node:crypto';

/**
 * The key as stored: keys longer than `maxLength` characters become their first 64 characters,
 * `#` and the SHA-256 of the whole key (base64url), so a long key is never rejected and stays
 * readable in `redis-cli`.
 */
export function normalizeKey(key: string, maxLength: number): string {
  if (key.length <= maxLength) return key;
  return `${key.slice(0, 64)}#${createHash('sha256').update(key).digest('base64url')}`;
}
