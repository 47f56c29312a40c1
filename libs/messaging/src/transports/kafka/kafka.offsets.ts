/**
 * Progress of one partition's records, several in flight at once: a record may be committed only
 * when it and every earlier record of the partition are done, whatever order the handlers finish
 * in. `T` is what is handed back for the commit (the consumed message, whose `commit()` commits
 * its offset + 1).
 */
export class PartitionProgress<T = bigint> {
  private readonly started: Array<{ offset: bigint; item: T }> = [];
  private readonly finished = new Set<bigint>();
  private head = 0;
  private lastDone?: { offset: bigint; item: T };

  /** Records that `offset` (greater than every earlier one) is being handled. */
  start(offset: bigint, item: T): void {
    this.started.push({ offset, item });
  }

  /** Marks `offset` done; true when the contiguous done prefix grew. */
  finish(offset: bigint): boolean {
    this.finished.add(offset);
    let advanced = false;
    while (this.head < this.started.length && this.finished.has(this.started[this.head]!.offset)) {
      this.lastDone = this.started[this.head]!;
      this.finished.delete(this.lastDone.offset);
      this.head++;
      advanced = true;
    }
    if (this.head > 1024) {
      this.started.splice(0, this.head);
      this.head = 0;
    }
    return advanced;
  }

  /** Records started and not yet part of the done prefix. */
  get pending(): number {
    return this.started.length - this.head;
  }

  /** The last record of the done prefix (what to commit), if any. */
  get committable(): T | undefined {
    return this.lastDone?.item;
  }

  /** The offset to commit (the next one to read), if any record is done. */
  get nextOffset(): bigint | undefined {
    return this.lastDone === undefined ? undefined : this.lastDone.offset + 1n;
  }
}

/**
 * Commits one partition's progress without piling up requests: while a commit is in flight, later
 * requests collapse into one commit of the newest.
 */
export class OffsetCommitter<T> {
  private wanted?: T;
  private committed?: T;
  private running?: Promise<void>;

  constructor(
    private readonly commit: (item: T) => Promise<void>,
    private readonly onError: (error: unknown, item: T) => void,
  ) {}

  /** Asks for `item` to be committed; resolves when that (or a newer) commit has been tried. */
  request(item: T): Promise<void> {
    this.wanted = item;
    this.running ??= this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Waits for the pending commit (if any). */
  async flush(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    while (this.wanted !== undefined && this.wanted !== this.committed) {
      const item = this.wanted;
      try {
        await this.commit(item);
        this.committed = item;
      } catch (error) {
        // Typically a rebalance: the partition's new owner re-reads from the last commit.
        this.onError(error, item);
        return;
      }
    }
  }
}
