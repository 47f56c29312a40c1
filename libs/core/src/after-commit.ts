/**
 * Work deferred until the surrounding database transaction commits, for a lib that may run
 * inside one without depending on persistence (the cache's write-through puts and evictions).
 * `@infrastructure/persistence` provides it (its `UnitOfWork`, for the default connection); inject
 * it optionally: without persistence, or outside a transaction, the work runs at once.
 *
 * @example
 * constructor(@Optional() private readonly tx?: AfterCommit) {}
 * await (this.tx ? this.tx.afterCommit(evict) : evict());
 */
export abstract class AfterCommit {
  /** Runs `fn` after the outermost transaction commits (never if it rolls back), or now. */
  abstract afterCommit(fn: () => unknown): Promise<void>;
}
