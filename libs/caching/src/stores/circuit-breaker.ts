/** Options of the circuit in front of the shared tier. */
export interface CircuitOptions {
  /** Consecutive failures (errors or timeouts) that open the circuit. @default 5 */
  failureThreshold: number;
  /** How long an open circuit skips the shared tier before letting one probe through. @default 5000 */
  cooldownMs: number;
}

/**
 * Closed → (N consecutive failures) → open: calls fail at once → (cooldown) → half-open: one probe
 * goes through; its success closes the circuit, its failure re-opens it.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly options: CircuitOptions,
    private readonly onChange: (state: 'open' | 'closed') => void = () => {},
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openUntil === 0) return 'closed';
    return Date.now() >= this.openUntil ? 'half-open' : 'open';
  }

  /** When a call may be tried again (0 when closed). */
  get retryAt(): number {
    return this.openUntil;
  }

  /** True when a call may go through now (takes the probe slot when half-open). */
  allow(): boolean {
    if (this.openUntil === 0) return true;
    if (Date.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.openUntil !== 0) {
      this.openUntil = 0;
      this.onChange('closed');
    }
  }

  failure(): void {
    this.failures++;
    const wasOpen = this.openUntil !== 0;
    if (this.probing || this.failures >= this.options.failureThreshold) {
      this.probing = false;
      this.openUntil = Date.now() + this.options.cooldownMs;
      if (!wasOpen) this.onChange('open');
    }
  }

  /** Closes the circuit now (the connection told us it is back). */
  reset(): void {
    this.success();
  }
}
