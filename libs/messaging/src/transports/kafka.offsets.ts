/**
 * Progress of one partition's fetched records, several in flight at once: a record's offset may be
 * committed only when it and every earlier record of the partition are done, whatever order the
 * handlers finish in.
 */
export class PartitionProgress {
  private readonly offsets: string[] = [];
  private readonly finished = new Set<string>();
  private head = 0;
  private lastDone?: string;

  /** Records that `offset` (greater than every earlier one) is being handled. */
  start(offset: string): void {
    this.offsets.push(offset);
  }

  /** Marks `offset` done; true when the contiguous done prefix grew. */
  finish(offset: string): boolean {
    this.finished.add(offset);
    let advanced = false;
    while (this.head < this.offsets.length && this.finished.has(this.offsets[this.head]!)) {
      this.lastDone = this.offsets[this.head]!;
      this.finished.delete(this.lastDone);
      this.head++;
      advanced = true;
    }
    return advanced;
  }

  /** The last offset of the done prefix (what `resolveOffset` takes), if any. */
  get resolved(): string | undefined {
    return this.lastDone;
  }

  /** The offset to commit (the next one to read), if any record is done. */
  get committable(): string | undefined {
    return this.lastDone === undefined ? undefined : (BigInt(this.lastDone) + 1n).toString();
  }
}

/**
 * Commits one partition's offset without piling up requests: while a commit is in flight, later
 * requests collapse into one commit of the newest offset.
 */
export class OffsetCommitter {
  private wanted?: string;
  private committed?: string;
  private running?: Promise<void>;

  constructor(
    private readonly commit: (offset: string) => Promise<void>,
    private readonly onError: (error: unknown, offset: string) => void,
  ) {}

  /** Asks for `offset` to be committed; resolves when that (or a newer) commit has been tried. */
  request(offset: string): Promise<void> {
    this.wanted = offset;
    this.running ??= this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Waits for the pending commit (if any). */
  async flush(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    while (this.wanted !== undefined && this.wanted !== this.committed) {
      const offset = this.wanted;
      try {
        await this.commit(offset);
        this.committed = offset;
      } catch (error) {
        // Typically a rebalance: the partition's new owner re-reads from the last commit.
        this.onError(error, offset);
        return;
      }
    }
  }
}
