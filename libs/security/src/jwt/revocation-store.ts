/**
 * Where revoked token ids live (the port; inject `RevocationStore`). Ids are opaque strings the
 * JwtManager namespaces (`at:<jti>`, `rt:<jti>`, `fam:<family>`); each entry expires with the
 * token it revokes, so the store never outgrows the tokens still alive.
 *
 * Adapters: {@link MemoryRevocationStore} (one process), {@link RedisRevocationStore} (shared).
 */
export abstract class RevocationStore {
  /**
   * Records `id` as revoked for `ttlSeconds`, atomically: resolves `true` when this call revoked
   * it, `false` when it was revoked already (how a refresh token's reuse is detected).
   */
  abstract revoke(id: string, ttlSeconds: number): Promise<boolean>;

  /** Whether any of `ids` is revoked (one round trip). */
  abstract isRevoked(ids: readonly string[]): Promise<boolean>;

  /** Releases connections the store opened itself. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
