import { loadDriver, withTimeout } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';
import type { OnApplicationShutdown } from '@nestjs/common';
import type {
  SendMailOptions,
  SMTPPoolOptions,
  SMTPPoolSentMessageInfo,
  Transporter,
} from 'nodemailer';
import {
  OperationTimeoutError,
  ResiliencePolicy,
  type CircuitStateName,
} from '@infrastructure/http-client';
import { MailTransientError } from '../errors.js';
import { prepareMail, type PreparedMail } from '../mail-message.js';
import { MailSender, type MailMessage, type MailReceipt } from '../mail-sender.js';
import { mailOutcomeOf, type MailMetrics } from '../mail.metrics.js';
import type { ResolvedSmtpOptions } from '../mail.options.js';
import { toMailError } from '../smtp-error.js';

type Nodemailer = (typeof import('nodemailer'))['default'];
type SmtpPool = Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;

/**
 * Loads nodemailer only when SMTP is configured (apps on the memory or log transport never load
 * it). Missing → `MissingDependencyError` with the install line (core's `loadDriver`).
 */
async function loadNodemailer(importer?: (pkg: string) => Promise<unknown>): Promise<Nodemailer> {
  const mod = await loadDriver<{ default?: Nodemailer } & Nodemailer>(
    'nodemailer',
    'MailModule transport "smtp"',
    importer,
  );
  return mod.default ?? mod;
}

/** The nodemailer pool options of resolved SMTP options. */
function poolOptionsOf(o: ResolvedSmtpOptions): SMTPPoolOptions & { pool: true } {
  return {
    pool: true,
    host: o.host,
    port: o.port,
    secure: o.secure,
    ...(o.auth ? { auth: { user: o.auth.user, pass: o.auth.pass } } : {}),
    requireTLS: o.requireTls,
    maxConnections: o.maxConnections,
    maxMessages: o.maxMessages,
    // The pool puts a message back once when a reused connection turns out dead before a byte was
    // sent (a server-side idle close); every other retry is the pipeline's, so it is counted,
    // backed off and seen by the breaker.
    maxRequeues: 1,
    connectionTimeout: o.connectionTimeoutMs,
    greetingTimeout: o.greetingTimeoutMs,
    socketTimeout: o.socketTimeoutMs,
    // Attachments are content we were given, never paths or URLs for the driver to read.
    disableFileAccess: true,
    disableUrlAccess: true,
    // nodemailer's logger can print the SMTP dialogue, AUTH included.
    logger: false,
  };
}

function toDriverMessage(m: PreparedMail): SendMailOptions {
  return {
    from: m.from,
    to: m.to,
    cc: m.cc,
    bcc: m.bcc,
    replyTo: m.replyTo,
    subject: m.subject,
    text: m.text,
    html: m.html,
    headers: m.headers,
    messageId: m.messageId,
    attachments: m.attachments?.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
    })),
  };
}

const CLOSE_DRAIN_MS = 10_000;

/**
 * `MailSender` over a pooled SMTP transport (nodemailer, `pool: true`) behind the http-client
 * lib's resilience pipeline: bulkhead → circuit breaker → retry (transient failures only: no
 * connection, timeouts, 4xx and 503 replies) → per-attempt timeout. Permanent rejections (5xx)
 * fail at once with `MailDeliveryError`. The Message-ID is fixed before the first attempt, so a
 * retry after an unclear failure (timeout after DATA) sends the same Message-ID and receivers can
 * drop the duplicate: delivery is at least once. Errors and logs show the server with its
 * password masked, never the password.
 */
export class SmtpMailSender extends MailSender implements OnApplicationShutdown {
  /** The sender's pipeline (its breaker and bulkhead are this sender's state). */
  readonly policy: ResiliencePolicy;
  /** `smtp://user:***@host:port`. */
  readonly server: string;
  private readonly logger = getLogger('MailSender');
  readonly #secrets: string[];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly unsubscribe: () => void;
  private closing: Promise<void> | undefined;
  // An ES private field: util.inspect and loggers never reach the transport's options (auth).
  readonly #transport: SmtpPool;

  /** Loads nodemailer and opens the pool (connections are made on the first send). */
  static async create(
    options: ResolvedSmtpOptions,
    from?: string,
    metrics?: MailMetrics,
  ): Promise<SmtpMailSender> {
    const nodemailer = await loadNodemailer();
    return new SmtpMailSender(
      options,
      nodemailer.createTransport(poolOptionsOf(options)),
      from,
      metrics,
    );
  }

  // Private: its declaration would name nodemailer's types, and nodemailer is an optional peer.
  private constructor(
    readonly options: ResolvedSmtpOptions,
    transport: SmtpPool,
    private readonly from?: string,
    private readonly metrics?: MailMetrics,
  ) {
    super();
    this.#transport = transport;
    this.server = options.server;
    this.#secrets = options.auth?.pass ? [options.auth.pass] : [];
    this.policy = new ResiliencePolicy(options.resilience);
    metrics?.circuit(this.policy.name, this.policy.circuitState);
    this.unsubscribe = this.policy.subscribe({
      onRetry: ({ attempt, delayMs, error }) =>
        this.logger.debug(
          { server: this.server, attempt, delayMs, err: (error as Error | undefined)?.message },
          `mail: attempt ${attempt} failed, retrying in ${Math.round(delayMs)} ms`,
        ),
      onCircuitStateChange: (state) => this.onCircuit(state),
    });
  }

  /** The breaker's state. */
  get circuitState(): CircuitStateName {
    return this.policy.circuitState;
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const started = performance.now();
    const run = this.deliver(message);
    this.inflight.add(run);
    try {
      const receipt = await run;
      this.metrics?.record(receipt.rejected.length > 0 ? 'partial' : 'success', started);
      return receipt;
    } catch (error) {
      this.metrics?.record(mailOutcomeOf(error), started);
      throw error;
    } finally {
      this.inflight.delete(run);
    }
  }

  private async deliver(message: MailMessage): Promise<MailReceipt> {
    const prepared = prepareMail(message, this.from);
    if (this.closing) {
      // Transient for the caller: another instance (or this one after a restart) can send it.
      throw new MailTransientError({
        server: this.server,
        code: 'ESHUTDOWN',
        response: 'the mail sender is shutting down; nothing sent',
      });
    }
    const data = toDriverMessage(prepared);
    const info = await this.policy.execute(
      async ({ signal, attempt }) => {
        try {
          return await this.#transport.sendMail({ ...data, signal });
        } catch (error) {
          throw toMailError(error, {
            server: this.server,
            attempts: attempt + 1,
            secrets: this.#secrets,
          });
        }
      },
      {
        timeoutError: (kind, ms) =>
          new OperationTimeoutError(
            this.policy.name,
            kind,
            ms,
            `mail: ${this.server} ${kind === 'total' ? 'send' : 'attempt'} timed out after ${ms} ms`,
          ),
      },
    );
    return {
      messageId: info.messageId || prepared.messageId,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
    };
  }

  /**
   * Connects, greets and authenticates on a fresh connection (the health check), outside the
   * pipeline. Fails with `MailDeliveryError` / `MailTransientError` (password never shown).
   */
  async verify(): Promise<void> {
    try {
      await this.#transport.verify();
    } catch (error) {
      throw toMailError(error, { server: this.server, attempts: 1, secrets: this.#secrets });
    }
  }

  /**
   * Stops taking messages, lets the ones in flight finish (at most 10 s), then closes the pool.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private async drainAndClose(): Promise<void> {
    if (this.inflight.size > 0) {
      await withTimeout(Promise.allSettled(this.inflight), CLOSE_DRAIN_MS, 'drain').catch(() => {});
    }
    this.unsubscribe();
    this.#transport.close();
  }

  private onCircuit(state: CircuitStateName): void {
    this.metrics?.circuit(this.policy.name, state);
    if (state === 'open') {
      this.logger.warn(
        { server: this.server, circuit: state },
        `mail: circuit open (${this.server} failed repeatedly); sends fail fast until a probe succeeds`,
      );
    } else {
      this.logger.info({ server: this.server, circuit: state }, `mail: circuit ${state}`);
    }
  }
}
