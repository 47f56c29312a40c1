/** One or more addresses: `'a@example.com'`, `'"Ann" <a@example.com>'` or a list of them. */
export type MailRecipients = string | string[];

/** A file attached to a message. */
export interface MailAttachment {
  /** Name shown to the recipient: `invoice-42.pdf`. */
  filename: string;
  /** The bytes (or text, sent as UTF-8). */
  content: Buffer | string;
  /** MIME type; guessed from `filename` when omitted. */
  contentType?: string;
}

/** A message to send. At least one of `to`, `cc`, `bcc` and one of `text`, `html`. */
export interface MailMessage {
  /** Sender; the module's `from` when omitted. */
  from?: string;
  to?: MailRecipients;
  cc?: MailRecipients;
  bcc?: MailRecipients;
  replyTo?: MailRecipients;
  subject: string;
  /** Plain text body. */
  text?: string;
  /** HTML body (send a `text` alternative too: some clients and filters want it). */
  html?: string;
  /** Extra headers (`X-Campaign: spring`); names and values without CR/LF. */
  headers?: Record<string, string>;
  attachments?: MailAttachment[];
}

/** What the mail server said about a sent message. */
export interface MailReceipt {
  /** The `Message-ID` header, `<…@domain>`; the same across the retries of one `send`. */
  messageId: string;
  /** Recipients the server accepted. */
  accepted: string[];
  /** Recipients the server refused while accepting the message for the others. */
  rejected: string[];
}

/**
 * The mail port: domain code injects `MailSender`; which adapter backs it (SMTP, memory, log) is
 * configuration (`MailModule`). Replace it in tests with
 * `overrideProvider(MailSender).useValue(new MemoryMailSender())`.
 */
export abstract class MailSender {
  /**
   * Sends `message`. Resolves once the server accepted it for at least one recipient. Fails with
   * `MailMessageError` (invalid message, nothing sent), `MailDeliveryError` (permanent rejection,
   * not retried), `MailTransientError` (retries exhausted), `CircuitOpenError`, `BulkheadFullError`
   * or `OperationTimeoutError`.
   */
  abstract send(message: MailMessage): Promise<MailReceipt>;
}
