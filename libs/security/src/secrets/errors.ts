/** A required secret is in none of the places looked at; the message lists them. */
export class SecretNotFoundError extends Error {
  override readonly name = 'SecretNotFoundError';
  constructor(
    readonly secretName: string,
    readonly lookedIn: readonly string[],
  ) {
    super(`secret ${secretName} not found (looked in ${lookedIn.join(', ')})`);
  }
}

/** A secrets source is misconfigured or unreadable (missing directory, unreadable `_FILE`). */
export class SecretsSourceError extends Error {
  override readonly name = 'SecretsSourceError';
}
