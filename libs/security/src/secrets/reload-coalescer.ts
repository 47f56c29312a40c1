/**
 * Runs a provider's reload so that reloads never overlap: a call while one runs gets a single
 * follow-up run (shared by every call made meanwhile), which starts when the running one settles.
 * The file and directory secrets providers use it for `reload()` (watch events come in bursts).
 */
export class ReloadCoalescer<T> {
  private running?: Promise<T>;
  private queued?: Promise<T>;

  constructor(private readonly apply: () => Promise<T>) {}

  /** Starts a run now, or joins the follow-up run if one is already under way. */
  run(): Promise<T> {
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running.then(() => {
        this.queued = undefined;
        return this.start();
      });
      return this.queued;
    }
    return this.start();
  }

  private start(): Promise<T> {
    this.running = this.apply().finally(() => (this.running = undefined));
    return this.running;
  }
}
