import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** s3rver accepts any well-formed SigV4 signature for this account (it does not check V4 signatures). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * s3rver 3.7.1 (a fake S3 on disk) in a child process started with `--openssl-legacy-provider`:
 * its ListObjectsV2 continuation tokens use DES, which OpenSSL 3 refuses otherwise (every
 * truncated listing answered 500). Real server, real HTTP, real SigV4 headers.
 */
export class S3rverProcess implements AsyncDisposable {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<S3rverProcess> {
    const dir = await mkdtemp(join(tmpdir(), 's3rver-'));
    const child = fork(fileURLToPath(new URL('./s3-server.child.cjs', import.meta.url)), [dir], {
      execArgv: ['--openssl-legacy-provider'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const [message] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`s3rver exited with ${String(code)} before listening`);
      }),
    ])) as [{ port?: number; error?: string }];
    if (!message.port) throw new Error(`s3rver did not start: ${message.error}`);
    return new S3rverProcess(child, dir, `http://127.0.0.1:${message.port}`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.disconnect();
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** What the proxy saw of one request. */
export interface ProxiedRequest {
  method: string;
  url: string;
  /** Status the proxy answered itself (an injected fault), else undefined. */
  injected?: number;
}

type Fault =
  { kind: 'status'; status: number; code: string } | { kind: 'hang' } | { kind: 'reset' };

interface MatchingFault {
  matches: (req: { method: string; url: string }) => boolean;
  status: number;
  code: string;
}

/**
 * An HTTP proxy in front of s3rver that injects faults for the next requests (S3 error answers
 * such as 503 SlowDown, hung requests, connection resets) and counts what passed: requests and
 * request body bytes forwarded. Everything else reaches the real fake S3.
 */
export class S3FaultProxy implements AsyncDisposable {
  readonly requests: ProxiedRequest[] = [];
  /** Request body bytes forwarded to s3rver so far. */
  bytesForwarded = 0;
  private readonly faults: Fault[] = [];
  private readonly matching: MatchingFault[] = [];
  private readonly hung = new Set<ServerResponse>();
  private readonly target: URL;

  private constructor(
    private readonly server: Server,
    target: string,
  ) {
    this.target = new URL(target);
  }

  static async start(target: string): Promise<S3FaultProxy> {
    const server = createServer();
    const proxy = new S3FaultProxy(server, target);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `count` requests get `status` with an S3 XML error `code` instead of reaching s3rver. */
  failNext(count: number, status = 503, code = 'ServiceUnavailable'): this {
    for (let i = 0; i < count; i++) this.faults.push({ kind: 'status', status, code });
    return this;
  }

  /** The first request matching `matches` (e.g. an upload of part 2) gets `status` with `code`, once. */
  failMatching(
    matches: (req: { method: string; url: string }) => boolean,
    status = 500,
    code = 'InternalError',
  ): this {
    this.matching.push({ matches, status, code });
    return this;
  }

  /** The next `count` requests are never answered (until `close`). */
  hangNext(count: number): this {
    for (let i = 0; i < count; i++) this.faults.push({ kind: 'hang' });
    return this;
  }

  /** The next `count` requests get their connection destroyed. */
  resetNext(count: number): this {
    for (let i = 0; i < count; i++) this.faults.push({ kind: 'reset' });
    return this;
  }

  /** Forgets requests and pending faults. */
  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.matching.length = 0;
    this.bytesForwarded = 0;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const seen: ProxiedRequest = { method: req.method ?? '', url: req.url ?? '' };
    this.requests.push(seen);
    const hit = this.matching.findIndex((m) => m.matches(seen));
    const fault: Fault | undefined =
      hit >= 0 ? { kind: 'status', ...this.matching.splice(hit, 1)[0]! } : this.faults.shift();
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      req.resume();
      this.hung.add(res);
      return;
    }
    if (fault?.kind === 'status') {
      seen.injected = fault.status;
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected by the test proxy</Message><RequestId>proxy</RequestId></Error>`,
        );
      });
      return;
    }
    const upstream = httpRequest(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      this.bytesForwarded += chunk.length;
    });
    req.pipe(upstream);
  }
}
