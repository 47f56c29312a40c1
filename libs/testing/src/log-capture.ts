/**
 * A log destination that keeps every line: pass it as `logging.destination` of the monitoring
 * options (`testMonitoringOptions({ logging: { level: 'debug', destination: logs } })`), then
 * assert on `logs.records` (parsed JSON) or `logs.text` (e.g. that no secret was logged).
 */
export class LogCapture {
  readonly lines: string[] = [];
  private readonly waiters: Array<{
    match: (record: Record<string, any>) => boolean;
    resolve: (record: Record<string, any>) => void;
  }> = [];

  write(line: string): void {
    this.lines.push(line);
    if (this.waiters.length === 0) return;
    const record = JSON.parse(line) as Record<string, any>;
    for (const waiter of this.waiters.slice()) {
      if (!waiter.match(record)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(record);
    }
  }

  /**
   * The next record logged from now on that `match`es (awaits an event that shows only as a log
   * line, instead of sleeping): `await logs.next((r) => r.msg === 'pool replaced')`.
   */
  next(match: (record: Record<string, any>) => boolean): Promise<Record<string, any>> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Forgets what was captured so far (before the part of a test that is asserted on). */
  clear(): void {
    this.lines.length = 0;
  }

  /** Every line as parsed JSON. */
  get records(): Array<Record<string, any>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, any>);
  }

  /** Everything logged, as one string. */
  get text(): string {
    return this.lines.join('');
  }
}
