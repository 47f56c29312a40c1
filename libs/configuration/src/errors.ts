/** One thing wrong with the configuration, as shown to the operator. */
export interface ConfigProblem {
  /** The environment variable (or `<VAR>_FILE`) that carries the bad value. */
  readonly env: string;
  /** The dotted key in the typed configuration, e.g. `http.port`. */
  readonly key: string;
  /** What was expected and what was received, secrets already masked. */
  readonly message: string;
}

/**
 * Thrown at boot when one or more configuration values are missing or invalid.
 * Lists every problem, not just the first, so one restart fixes them all.
 */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Configuration is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.env}: ${p.message}`).join('\n'),
    );
  }
}

/** Thrown when an `enc:v1:` value cannot be decrypted (wrong key or tampered value). */
export class ConfigDecryptionError extends Error {
  override readonly name = 'ConfigDecryptionError';
}

/** Thrown for programming mistakes in config definitions (duplicate namespace or env var). */
export class ConfigDefinitionError extends Error {
  override readonly name = 'ConfigDefinitionError';
}
