const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A lifetime: seconds, or a string like `'90s'`, `'15m'`, `'12h'`, `'14d'`. */
export type Duration = number | `${number}${'s' | 'm' | 'h' | 'd'}`;

/** Seconds in a {@link Duration}; throws TypeError (naming `what`) when it is not positive. */
export function durationSeconds(value: Duration | string, what: string): number {
  const match = typeof value === 'string' ? /^(\d+)\s*([smhd])$/.exec(value.trim()) : null;
  const seconds =
    typeof value === 'number' ? value : match ? Number(match[1]) * UNITS[match[2]!]! : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new TypeError(
      `${what} must be a positive number of seconds or a string like "15m", got ${JSON.stringify(value)}`,
    );
  }
  return Math.floor(seconds);
}
