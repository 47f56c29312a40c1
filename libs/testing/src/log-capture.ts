/**
 * A log destination that keeps every line: pass it as `logging.destination` of the monitoring
 * options (`testMonitoringOptions({ logging: { level: 'debug', destination: logs } })`), then
 * assert on `logs.records` (parsed JSON) or `logs.text` (e.g. that no secret was logged).
 */
export class LogCapture {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
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
