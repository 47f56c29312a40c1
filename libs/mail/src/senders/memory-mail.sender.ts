import { prepareMail, recipientsOf, bareAddress, type PreparedMail } from '../mail-message.js';
import { MailSender, type MailMessage, type MailReceipt } from '../mail-sender.js';
import { mailOutcomeOf, type MailMetrics } from '../mail.metrics.js';

/** A message kept by {@link MemoryMailSender}. */
export interface SentMail {
  /** The message as sent: sender filled in, `messageId` set. */
  message: PreparedMail;
  receipt: MailReceipt;
  sentAt: Date;
}

interface Waiter {
  predicate: (mail: SentMail) => boolean;
  resolve: (mail: SentMail) => void;
}

/** Options of {@link MemoryMailSender}. */
export interface MemoryMailSenderOptions {
  /** Sender of messages without `from`. @default 'no-reply@localhost' */
  from?: string;
  /** Messages kept at most (oldest dropped first). @default 1000 */
  maxMessages?: number;
}

/**
 * Keeps sent messages in memory instead of sending them: for tests and local development.
 * Validates messages like the SMTP adapter does. `next()` and `waitFor()` let tests await a
 * message (e.g. one sent by a queue handler) instead of sleeping.
 *
 * @example
 * const mails = new MemoryMailSender();
 * moduleBuilder.overrideProvider(MailSender).useValue(mails);
 * const mail = await mails.waitFor((m) => m.message.subject.includes('Welcome'));
 */
export class MemoryMailSender extends MailSender {
  /** Messages sent so far, oldest first. */
  readonly sent: SentMail[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly failures: Error[] = [];
  private readonly from: string;
  private readonly maxMessages: number;

  constructor(
    options: MemoryMailSenderOptions = {},
    private readonly metrics?: MailMetrics,
  ) {
    super();
    this.from = options.from ?? 'no-reply@localhost';
    this.maxMessages = options.maxMessages ?? 1000;
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const started = performance.now();
    try {
      const prepared = prepareMail(message, this.from);
      const failure = this.failures.shift();
      if (failure) throw failure;
      const receipt: MailReceipt = {
        messageId: prepared.messageId,
        accepted: recipientsOf(prepared).map(bareAddress),
        rejected: [],
      };
      const mail: SentMail = { message: prepared, receipt, sentAt: new Date() };
      this.sent.push(mail);
      if (this.sent.length > this.maxMessages) this.sent.shift();
      for (const w of this.waiters) {
        if (w.predicate(mail)) {
          this.waiters.delete(w);
          w.resolve(mail);
        }
      }
      this.metrics?.record('success', started);
      return receipt;
    } catch (error) {
      this.metrics?.record(mailOutcomeOf(error), started);
      throw error;
    }
  }

  /** The last message sent, if any. */
  get last(): SentMail | undefined {
    return this.sent.at(-1);
  }

  /** Forgets the sent messages and queued failures (waiters keep waiting). */
  clear(): void {
    this.sent.length = 0;
    this.failures.length = 0;
  }

  /** Makes the next `send` fail with `error` (queue several for several sends). */
  failNext(error: Error): void {
    this.failures.push(error);
  }

  /** The next message sent after this call. Rejects after `timeoutMs`. */
  next(timeoutMs = 5000): Promise<SentMail> {
    return this.wait(() => true, timeoutMs, 'the next mail');
  }

  /**
   * The first message, already sent or still to come, that matches `predicate`. Rejects after
   * `timeoutMs` naming how many messages were seen.
   */
  waitFor(predicate: (mail: SentMail) => boolean, timeoutMs = 5000): Promise<SentMail> {
    const found = this.sent.find(predicate);
    if (found) return Promise.resolve(found);
    return this.wait(predicate, timeoutMs, 'a matching mail');
  }

  private wait(
    predicate: (mail: SentMail) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<SentMail> {
    return new Promise<SentMail>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (mail) => {
          clearTimeout(timer);
          resolve(mail);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `MemoryMailSender: ${what} did not come within ${timeoutMs} ms (${this.sent.length} kept: ${this.sent
              .slice(-5)
              .map((m) => JSON.stringify(m.message.subject))
              .join(', ')})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
