import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * A tiny payment provider for the embedded default (`PAYMENTS_URL` unset) and the tests: a real
 * HTTP server on 127.0.0.1, so the `payments` client's pool, breaker, metrics and health work
 * exactly as against a real provider. `POST /authorizations` approves amounts up to 1,000,000
 * cents (declines above); `GET /health` answers 200. `failing = true` makes it answer 503.
 */
export class FakePaymentProvider {
  failing = false;
  private server?: Server;
  url = '';

  /** Listens on `port` (0: any free one) and `host` (default 127.0.0.1); `url` is then set. */
  async start(port = 0, host = '127.0.0.1'): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (this.failing) {
          res.statusCode = 503;
          res.end(JSON.stringify({ title: 'Service Unavailable', status: 503 }));
          return;
        }
        if (req.method === 'GET' && req.url === '/health') {
          res.end(JSON.stringify({ status: 'ok' }));
          return;
        }
        if (req.method === 'POST' && req.url === '/authorizations') {
          const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as {
            amountCents?: number;
          };
          const approved = (body.amountCents ?? 0) <= 1_000_000;
          res.statusCode = 201;
          res.end(JSON.stringify({ id: randomUUID(), status: approved ? 'approved' : 'declined' }));
          return;
        }
        res.statusCode = 404;
        res.end(JSON.stringify({ status: 404 }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    this.url = `http://${shown}:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
