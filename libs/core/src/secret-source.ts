/** A secret value as a {@link SecretSource} hands it over (`reveal()` at the last moment). */
export interface RevealableSecret {
  reveal(): string;
}

/**
 * What a lib needs of a secrets provider to follow a rotated secret (a webhook secret, a
 * database or Redis password): the current value by name, and its changes. The security lib's
 * `SecretsProvider` is one; libs that cannot depend on the security lib take this shape instead.
 */
export interface SecretSource {
  /** The secret's current value, `undefined` when the source does not have it. */
  get(name: string): RevealableSecret | undefined;
  /**
   * Calls `listener` each time secret `name` changes (`undefined`: it disappeared); returns the
   * function that unsubscribes.
   */
  onChange(
    name: string,
    listener: (secret: RevealableSecret | undefined, name: string) => void | Promise<void>,
  ): () => void;
}

/** Whether `value` has the {@link SecretSource} shape (for options validation). */
export function isSecretSource(value: unknown): value is SecretSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SecretSource).get === 'function' &&
    typeof (value as SecretSource).onChange === 'function'
  );
}
