import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** One message the sink accepted. */
export interface ReceivedMail {
  /** MAIL FROM. */
  from: string;
  /** RCPT TO addresses the sink accepted. */
  to: string[];
  /** The raw message (headers and MIME body) as sent over DATA. */
  raw: string;
  /** The authenticated user, if any. */
  user?: string;
}

/** A scripted SMTP reply for the next command(s) of a stage. */
interface Rule {
  stage: 'rcpt' | 'data';
  code: number;
  text: string;
  remaining: number;
  recipient?: string;
}

type Waiter<T> = (value: T) => void;

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 for integration tests: accepts and keeps mail,
 * optionally requires AUTH, and answers scripted errors (`fail('rcpt', 550, …)`,
 * `fail('data', 451, …, 1)`). `nextMail()` awaits the next accepted message, no sleeping.
 * Plain text only (STARTTLS disabled), AUTH allowed without TLS.
 */
export class SmtpSink implements AsyncDisposable {
  readonly received: ReceivedMail[] = [];
  /** SMTP sessions opened so far. */
  connections = 0;
  /** Commands answered with a scripted error so far. */
  failuresSent = 0;
  private rules: Rule[] = [];
  private mailWaiters: Array<Waiter<ReceivedMail>> = [];
  private server: SMTPServer;
  private listeningPort = 0;

  private constructor(private readonly auth?: { user: string; pass: string }) {
    this.server = this.createServer();
  }

  /** Starts a sink on a free port (or `port`). */
  static async start(options: { auth?: { user: string; pass: string } } = {}): Promise<SmtpSink> {
    const sink = new SmtpSink(options.auth);
    await sink.listen(0);
    return sink;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** `smtp://127.0.0.1:<port>` (no credentials). */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /**
   * Answers the next `times` commands of `stage` (RCPT TO or end of DATA) with `code text`;
   * with `recipient`, only RCPT TO of that address.
   */
  fail(
    stage: 'rcpt' | 'data',
    code: number,
    text: string,
    times = Number.POSITIVE_INFINITY,
    recipient?: string,
  ): void {
    this.rules.push({ stage, code, text, remaining: times, recipient });
  }

  /** Forgets received mail, counters and scripted failures. */
  reset(): void {
    this.received.length = 0;
    this.connections = 0;
    this.failuresSent = 0;
    this.rules = [];
  }

  /** The next message the sink accepts. */
  nextMail(): Promise<ReceivedMail> {
    return new Promise((resolve) => this.mailWaiters.push(resolve));
  }

  /** Stops listening and drops every open session at once (a crashed server). */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.server.connections) connection.close();
    await closed;
  }

  /** Listens again on the same port after `stop()`. */
  async restart(): Promise<void> {
    this.server = this.createServer();
    await this.listen(this.listeningPort);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async listen(port: number): Promise<void> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server.server, 'listening');
    this.listeningPort = (this.server.server.address() as AddressInfo).port;
  }

  private scripted(stage: Rule['stage'], recipient?: string): Error | undefined {
    const rule = this.rules.find(
      (r) =>
        r.stage === stage &&
        r.remaining > 0 &&
        (r.recipient === undefined || r.recipient === recipient),
    );
    if (!rule) return undefined;
    rule.remaining--;
    this.failuresSent++;
    return smtpError(rule.code, rule.text);
  }

  private createServer(): SMTPServer {
    const auth = this.auth;
    return new SMTPServer({
      logger: false,
      disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !auth,
      allowInsecureAuth: true,
      disableReverseLookup: true,
      closeTimeout: 100,
      onConnect: (_session, callback) => {
        this.connections++;
        callback();
      },
      onAuth: (login, _session, callback) => {
        if (auth && login.username === auth.user && login.password === auth.pass) {
          callback(null, { user: login.username });
        } else {
          callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
        }
      },
      onRcptTo: (address, _session, callback) => callback(this.scripted('rcpt', address.address)),
      onData: (stream: SMTPServerDataStream, session: SMTPServerSession, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const error = this.scripted('data');
          if (error) {
            callback(error);
            return;
          }
          const mail: ReceivedMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: session.user as string | undefined,
          };
          this.received.push(mail);
          for (const w of this.mailWaiters.splice(0)) w(mail);
          callback();
        });
      },
    });
  }
}
