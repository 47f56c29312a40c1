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

/**
 * One secret of a {@link SecretSource}, named: what an option that follows a rotating secret
 * takes (`redis.password`, the database `password`): `{ secrets, name: 'REDIS_PASSWORD' }`.
 */
export interface SecretReference {
  /** Where the secret lives (the security lib's `SecretsProvider`). */
  secrets: SecretSource;
  /** The secret's name in it (`REDIS_PASSWORD`: read from `REDIS_PASSWORD_FILE` or the variable). */
  name: string;
}

/**
 * Whether `value` is a {@link SecretReference} (`{ secrets, name }`, nothing else), for options
 * validation: `z.custom<SecretReference>(isSecretReference, { message: SECRET_REFERENCE_EXPECTED })`.
 */
export function isSecretReference(value: unknown): value is SecretReference {
  if (typeof value !== 'object' || value === null) return false;
  const { secrets, name, ...rest } = value as SecretReference;
  return (
    isSecretSource(secrets) &&
    typeof name === 'string' &&
    name.length > 0 &&
    Object.keys(rest).length === 0
  );
}

/** What a {@link SecretReference} option must be, for validation messages. */
export const SECRET_REFERENCE_EXPECTED =
  "must be { secrets, name }: a SecretsProvider (get(name), onChange(name, listener)) and the secret's name";
