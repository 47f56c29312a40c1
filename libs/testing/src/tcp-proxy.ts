import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a shared server (Redis, NATS, Mosquitto, …), so a test can disrupt its
 * own connections only while other test files keep using the server:
 * `drop()` cuts the current connections (clients reconnect), `stall()` stops forwarding bytes (a
 * hung server), `cut()` drops everything and refuses new connections (a dead server),
 * `restore()` brings it back on the same port. `accepted(n)` awaits reconnects without sleeping.
 *
 * @example
 * await using proxy = await TcpProxy.start(6379);
 * const app = await createApp({ REDIS_URL: proxy.url('redis') });
 * proxy.stall(); ... await proxy.restore();
 */
export class TcpProxy implements AsyncDisposable {
  private readonly pairs = new Set<[Socket, Socket]>();
  private server?: Server;
  private stalled = false;
  private connections = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  port = 0;

  constructor(
    private readonly upstreamPort: number,
    private readonly upstreamHost = '127.0.0.1',
  ) {}

  /** A started proxy to `upstreamPort`. */
  static async start(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(upstreamPort, upstreamHost);
    await proxy.listen();
    return proxy;
  }

  /** `<scheme>://127.0.0.1:<port>`. */
  url(scheme: string): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /** Client connections accepted so far. */
  get total(): number {
    return this.connections;
  }

  /** Starts listening (on the same port again after `cut`). */
  async listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.upstreamPort, this.upstreamHost);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      for (const s of pair) {
        s.on('error', () => {});
        s.on('close', () => {
          this.pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
      if (this.stalled) for (const s of pair) s.pause();
      this.connections++;
      this.waiters = this.waiters.filter((w) =>
        this.connections >= w.count ? (w.resolve(), false) : true,
      );
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
  }

  /** Resolves once `count` client connections were accepted in total. */
  accepted(count: number): Promise<void> {
    if (this.connections >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Destroys the current connections; new ones are still accepted. */
  drop(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
  }

  /** Stops forwarding bytes both ways: requests hang, connections stay open. */
  stall(): void {
    this.stalled = true;
    for (const pair of this.pairs) for (const s of pair) s.pause();
  }

  /** Drops every connection and stops accepting new ones (connection refused). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) =>
      server ? server.close(() => resolve()) : resolve(),
    );
    this.drop();
    await closed;
  }

  /** Forwards again (after `stall`) or listens again on the same port (after `cut`). */
  async restore(): Promise<void> {
    this.stalled = false;
    for (const pair of this.pairs) for (const s of pair) s.resume();
    if (!this.server) await this.listen();
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
