import { getLogger } from '@infrastructure/monitoring';
import type { Logger } from 'pino';
import { bareAddress, prepareMail, recipientsOf } from '../mail-message.js';
import { MailSender, type MailMessage, type MailReceipt } from '../mail-sender.js';
import { mailOutcomeOf, type MailMetrics } from '../mail.metrics.js';

/** Options of {@link LogMailSender}. */
export interface LogMailSenderOptions {
  /** Sender of messages without `from`. @default 'no-reply@localhost' */
  from?: string;
  /** Also log `text` and `html` (at debug): they may hold reset links and tokens. @default false */
  logBodies?: boolean;
}

/**
 * Logs messages instead of sending them (development without an SMTP server): one `info` line
 * per message with its Message-ID, sender, recipients, subject and attachment names; bodies only
 * with `logBodies`, at `debug`. Validates messages like the SMTP adapter does. Keeps nothing.
 */
export class LogMailSender extends MailSender {
  private readonly from: string;

  constructor(
    private readonly options: LogMailSenderOptions = {},
    private readonly metrics?: MailMetrics,
    private readonly logger: Logger = getLogger('MailSender'),
  ) {
    super();
    this.from = options.from ?? 'no-reply@localhost';
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const started = performance.now();
    try {
      const m = prepareMail(message, this.from);
      const accepted = recipientsOf(m).map(bareAddress);
      this.logger.info(
        {
          messageId: m.messageId,
          from: m.from,
          to: m.to,
          cc: m.cc,
          bcc: m.bcc,
          subject: m.subject,
          attachments: m.attachments?.map((a) => a.filename),
        },
        `mail (not sent, log transport): ${JSON.stringify(m.subject)} to ${accepted.length} recipient(s)`,
      );
      if (this.options.logBodies) {
        this.logger.debug({ messageId: m.messageId, text: m.text, html: m.html }, 'mail body');
      }
      this.metrics?.record('success', started);
      return { messageId: m.messageId, accepted, rejected: [] };
    } catch (error) {
      this.metrics?.record(mailOutcomeOf(error), started);
      throw error;
    }
  }
}
