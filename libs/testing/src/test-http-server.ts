import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: SeenRequest, res: ServerResponse) => void;

/**
 * A local HTTP server whose behaviour a test sets per request (`handle`), counting hits and
 * sockets; `nextRequest()` awaits the next request event instead of sleeping.
 */
export class TestHttpServer implements AsyncDisposable {
  readonly requests: SeenRequest[] = [];
  sockets = 0;
  private handler: Handler = (_req, res) => res.end();
  private waiters: Array<(r: SeenRequest) => void> = [];
  private readonly hung = new Set<ServerResponse>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<TestHttpServer> {
    const server = createServer();
    const t = new TestHttpServer(server);
    server.on('connection', () => t.sockets++);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        t.requests.push(seen);
        for (const w of t.waiters.splice(0)) w(seen);
        t.handler(seen, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return t;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get hits(): number {
    return this.requests.length;
  }

  /** Sets how the following requests are answered. */
  handle(handler: Handler): void {
    this.handler = handler;
  }

  /** Answers JSON with `status`. */
  static json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  /** Never answers (the response is kept so `close()` can end it). */
  hang(res: ServerResponse): void {
    this.hung.add(res);
  }

  /** Resolves with the next request the server receives. */
  nextRequest(): Promise<SeenRequest> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  reset(): void {
    this.requests.length = 0;
    this.sockets = 0;
    this.handler = (_req, res) => res.end();
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
