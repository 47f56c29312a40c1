import { MailDeliveryError, MailTransientError, type SmtpFailure } from './errors.js';

/** The fields nodemailer puts on its errors (its `NodemailerError`), all optional. */
interface DriverError {
  name?: string;
  message?: string;
  code?: string;
  originalCode?: string;
  responseCode?: number;
  permanent?: boolean;
  command?: string;
  response?: string;
  rejected?: string[];
}

/**
 * Failures without an SMTP reply that a retry cannot fix: credentials, configuration, TLS, a
 * message the driver refuses. Connection-level ones (ECONNECTION, ESOCKET, ETIMEDOUT, EDNS,
 * EPROXY) are transient.
 */
const PERMANENT_CODES = new Set([
  'EAUTH',
  'ENOAUTH',
  'EOAUTH2',
  'ECONFIG',
  'ETLS',
  'EREQUIRETLS',
  'EENVELOPE',
  'EMESSAGE',
  'EMAXRECIPIENTS',
  'EOTP',
  'EFILEACCESS',
  'EURLACCESS',
]);

/** RFC 5321: 5yz is a permanent rejection, except 503 (bad sequence: a new session may work). */
export function isPermanentReply(responseCode: number): boolean {
  return responseCode >= 500 && responseCode < 600 && responseCode !== 503;
}

/** `text` with every secret replaced by `***`, first line only, at most 300 characters. */
export function scrub(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  let out = text.split(/\r?\n/)[0]!.trim();
  for (const secret of secrets) {
    if (secret.length < 3) continue; // too short to mask without mangling the text
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join('***');
    }
  }
  return out.length > 300 ? `${out.slice(0, 297)}...` : out;
}

/** Where an error happened, for the message. */
export interface SmtpErrorContext {
  /** The masked server URL. */
  server: string;
  /** Calls made so far, this one included. */
  attempts: number;
  /** Values never to show (the password). */
  secrets: readonly string[];
}

/**
 * The typed error for a driver failure: `MailDeliveryError` (permanent: 5xx except 503, or a
 * permanent code such as EAUTH) or `MailTransientError` (4xx, 503, connection failures).
 * Aborts and errors that are not the driver's are returned as they are.
 */
export function toMailError(error: unknown, ctx: SmtpErrorContext): unknown {
  const e = (error ?? {}) as DriverError;
  if (e.name === 'AbortError' || (e.code === undefined && e.responseCode === undefined)) {
    return error;
  }
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const failure: SmtpFailure = {
    server: ctx.server,
    code: e.originalCode ?? e.code,
    responseCode,
    command: e.command,
    // With a reply, its text; without one, the driver's message (e.g. connect ECONNREFUSED …).
    response: scrub(
      responseCode !== undefined ? (e.response ?? e.message) : e.message,
      ctx.secrets,
    ),
    rejected: e.rejected,
    attempts: ctx.attempts,
  };
  const permanent =
    responseCode !== undefined
      ? (e.permanent ?? isPermanentReply(responseCode))
      : PERMANENT_CODES.has(e.code ?? '');
  return permanent
    ? new MailDeliveryError(failure, { cause: error })
    : new MailTransientError(failure, { cause: error });
}
