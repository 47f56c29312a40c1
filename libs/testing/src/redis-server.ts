import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A throwaway `redis-server` of the test's own (no persistence, on a free loopback port), for
 * tests that change server-wide settings the shared Redis must keep: `requirepass` (password
 * rotation), `CLIENT KILL` of every connection. Needs `redis-server` on the PATH.
 *
 * @example
 * await using redis = await RedisServer.start({ password: 'pw-a' });
 * const app = await createApp({ REDIS_URL: redis.url() });
 */
export class RedisServer implements AsyncDisposable {
  private constructor(
    private readonly process: ChildProcess,
    /** The port it listens on (127.0.0.1). */
    readonly port: number,
  ) {}

  /** Starts a server (`password`: its initial `requirepass`) and waits until it accepts connections. */
  static async start(options: { password?: string } = {}): Promise<RedisServer> {
    const port = await freePort();
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('Ready to accept connections')) resolve();
      });
    });
    child.stdout!.resume();
    return new RedisServer(child, port);
  }

  /** `redis://[:password@]127.0.0.1:<port>`. */
  url(password?: string): string {
    return `redis://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${this.port}`;
  }

  /** Stops the server (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGTERM');
    await exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
