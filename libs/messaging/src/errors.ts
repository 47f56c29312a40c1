/** A message that can never be handled (malformed, unknown type, failed validation): dead-lettered at once. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

/** Bad MessagingModule options; the message names the key. */
export class MessagingConfigError extends Error {
  override readonly name = 'MessagingConfigError';
}
