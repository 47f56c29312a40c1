import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal } from './principal.js';

/** An API key as configured: only its SHA-256 hash is stored (`sha256:<hex>`). */
export interface ApiKeyDefinition {
  /** Who the key belongs to: the principal's subject. */
  name: string;
  /** `sha256:<64 hex>` of the key (`ApiKeys.hash(key)`). */
  hash: string;
  scopes?: string[];
  roles?: string[];
  tenant?: string;
}

/**
 * API keys hashed at rest: the key itself is never stored or logged, only compared by hash in
 * constant time. Keys are high-entropy random strings, so a fast hash is the right tool (a slow
 * password hash would only add latency to every request).
 */
export class ApiKeys {
  private readonly keys: Array<{ def: ApiKeyDefinition; digest: Buffer }>;

  constructor(definitions: readonly ApiKeyDefinition[] = []) {
    this.keys = definitions.map((def) => {
      const match = /^sha256:([0-9a-f]{64})$/.exec(def.hash);
      if (!match) {
        throw new TypeError(
          `API key "${def.name}": hash must be "sha256:<64 hex chars>" (ApiKeys.hash(key))`,
        );
      }
      return { def, digest: Buffer.from(match[1]!, 'hex') };
    });
  }

  /** `sha256:<hex>` of a key, for configuration. */
  static hash(key: string): string {
    return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
  }

  get size(): number {
    return this.keys.length;
  }

  /** The principal of a presented key, or undefined. */
  authenticate(key: string): Principal | undefined {
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found: ApiKeyDefinition | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, digest)) found = k.def;
    if (!found) return undefined;
    return {
      subject: found.name,
      kind: 'api-key',
      scopes: found.scopes ?? [],
      roles: found.roles ?? [],
      ...(found.tenant ? { tenant: found.tenant } : {}),
      claims: {},
    };
  }
}
