/** Bad `MailModule` options or mail environment; the message names the key (`options.smtp.url`, `SMTP_URL`). */
export class MailConfigError extends Error {
  override readonly name = 'MailConfigError';
}

/** What the mail errors from an SMTP exchange carry. */
export interface SmtpFailure {
  /** Where the mail was going: `smtp://user:***@smtp.example.com:587` (password masked). */
  server: string;
  /** The driver's error code: `EENVELOPE`, `EMESSAGE`, `EAUTH`, `ESOCKET`, `ECONNREFUSED`… */
  code?: string;
  /** The SMTP reply code when the server answered: 550, 451… */
  responseCode?: number;
  /** The SMTP command the server answered: `RCPT TO`, `DATA`, `AUTH PLAIN`… */
  command?: string;
  /** The server's reply text (secrets removed). */
  response?: string;
  /** Recipients the server refused. */
  rejected?: string[];
  /** Calls made (1 + retries) before giving up. */
  attempts?: number;
}

/** Session-level failures (credentials, TLS, config): every send would fail, so the breaker counts them. */
const SESSION_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EREQUIRETLS', 'ECONFIG']);
/** Replies about authentication (RFC 4954: 530 required, 534 too weak, 535 invalid, 538 needs TLS). */
const AUTH_REPLIES = new Set([530, 534, 535, 538]);

function describe(f: SmtpFailure): string {
  const reply = f.responseCode
    ? ` answered ${f.responseCode}${f.command ? ` to ${f.command}` : ''}${f.response ? `: ${f.response.replace(/^\d{3}[ -]/, '')}` : ''}`
    : ` failed: ${f.code ?? 'error'}${f.response ? ` (${f.response})` : ''}`;
  const tries = f.attempts && f.attempts > 1 ? `; gave up after ${f.attempts} attempts` : '';
  return `mail: ${f.server}${reply}${tries}`;
}

/** What both SMTP failures carry: the {@link SmtpFailure} fields and a message built from them. */
abstract class SmtpError extends Error implements SmtpFailure {
  readonly httpStatus = 502;
  abstract readonly retryable: boolean;
  readonly server: string;
  readonly code?: string;
  readonly responseCode?: number;
  readonly command?: string;
  readonly response?: string;
  readonly rejected?: string[];
  readonly attempts?: number;
  constructor(failure: SmtpFailure, options?: ErrorOptions) {
    super(describe(failure), options);
    Object.assign(this, failure);
    this.server = failure.server;
  }
}

/**
 * The mail server refused for good (an SMTP 5xx reply other than 503, or a failure that a retry
 * cannot fix: bad credentials, TLS required but not offered). Not retried. Recipient and message
 * rejections (`EENVELOPE`, `EMESSAGE`) do not count for the circuit breaker (the message was at
 * fault, not the server); session failures (`EAUTH`, `ETLS`, 530/534/535/538 replies…) do: every
 * send would fail the same way, and some servers lock an account after repeated bad logins.
 * Answers 502 if it reaches the problem filter.
 */
export class MailDeliveryError extends SmtpError {
  override readonly name = 'MailDeliveryError';
  readonly retryable = false;
  readonly countsAsFailure: boolean;
  constructor(failure: SmtpFailure, options?: ErrorOptions) {
    super(failure, options);
    this.countsAsFailure =
      (failure.code !== undefined && SESSION_CODES.has(failure.code)) ||
      (failure.responseCode !== undefined && AUTH_REPLIES.has(failure.responseCode));
  }
}

/**
 * The mail could not be sent this time: no connection (refused, reset, timed out, DNS) or a
 * transient SMTP reply (4xx, 503). Retried by the pipeline; thrown once retries are exhausted.
 * Answers 502 if it reaches the problem filter.
 */
export class MailTransientError extends SmtpError {
  override readonly name = 'MailTransientError';
  readonly retryable = true;
  readonly countsAsFailure = true;
}

/**
 * The message is invalid (no recipient, no body, no sender, CR/LF in a header…); nothing was
 * sent. A bug of the caller: not retried, not counted by the breaker.
 */
export class MailMessageError extends Error {
  override readonly name = 'MailMessageError';
  readonly retryable = false;
  readonly countsAsFailure = false;
}
