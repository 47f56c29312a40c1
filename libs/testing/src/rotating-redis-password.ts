import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { kubeletWrite } from './kubelet-write.js';
import { RedisServer } from './redis-server.js';

/** What {@link RotatingRedisPassword.rotate} waits on: a secrets provider's `onChange`. */
export interface SecretChangeSource {
  onChange(name: string, listener: () => void): () => void;
}

/** Options of {@link RotatingRedisPassword.start}. */
export interface RotatingRedisPasswordOptions {
  /** The server's initial `requirepass` and the secret file's first content. */
  password: string;
  /**
   * The secret's file name in {@link RotatingRedisPassword.directory}.
   * @default 'REDIS_PASSWORD'
   */
  name?: string;
}

/**
 * A {@link RedisServer} of the test's own whose password rotates like a Kubernetes secret: the
 * password lives in a secret volume ({@link kubeletWrite} layout, `<directory>/<name>`),
 * {@link rotate} changes `requirepass` and swaps `..data`, {@link dropClients} `CLIENT KILL`s every
 * connection but its own admin one, so the clients under test must reconnect with the new
 * password. Needs `redis-server` on the PATH and `ioredis` installed.
 *
 * @example
 * await using redis = await RotatingRedisPassword.start({ password: 'pw-a' });
 * const secrets = new DirectorySecretsProvider({ directory: redis.directory, pollIntervalMs: 0 });
 * // ... connect the client under test to redis.url() with password { secrets, name: 'REDIS_PASSWORD' }
 * await redis.rotate('pw-b', secrets);
 * await redis.dropClients();
 */
export class RotatingRedisPassword implements AsyncDisposable {
  private constructor(
    /** The server (its port, `url(password)`). */
    readonly server: RedisServer,
    /** The secret volume's directory. */
    readonly directory: string,
    /** The secret's file name. */
    readonly name: string,
    private readonly admin: Redis,
  ) {}

  /** Starts the server with `password`, writes the secret volume and connects the admin client. */
  static async start(options: RotatingRedisPasswordOptions): Promise<RotatingRedisPassword> {
    const name = options.name ?? 'REDIS_PASSWORD';
    const server = await RedisServer.start({ password: options.password });
    const directory = mkdtempSync(join(tmpdir(), 'redis-password-'));
    kubeletWrite(directory, { [name]: options.password });
    const { Redis } = await import('ioredis');
    const admin = new Redis(server.url(options.password), { lazyConnect: true });
    await admin.connect();
    return new RotatingRedisPassword(server, directory, name, admin);
  }

  /** The secret's file (`<directory>/<name>`), e.g. for a `REDIS_PASSWORD_FILE` variable. */
  get file(): string {
    return join(this.directory, this.name);
  }

  /** `redis://[:password@]127.0.0.1:<port>` (without a password by default: it is the secret). */
  url(password?: string): string {
    return this.server.url(password);
  }

  /**
   * Sets the server's `requirepass` to `password`, then rotates the secret file (one `..data`
   * swap) and resolves when `secrets` reported the change. Authenticated connections stay up.
   */
  async rotate(password: string, secrets: SecretChangeSource): Promise<void> {
    await this.admin.config('SET', 'requirepass', password);
    const changed = new Promise<void>((resolve) => {
      const off = secrets.onChange(this.name, () => {
        off();
        resolve();
      });
    });
    kubeletWrite(this.directory, { [this.name]: password });
    await changed;
  }

  /** `CLIENT KILL TYPE <type> SKIPME yes` for each type: every such connection but the admin's. */
  async dropClients(...types: ('normal' | 'pubsub')[]): Promise<void> {
    for (const type of types.length === 0 ? ['normal'] : types) {
      await this.admin.client('KILL', 'TYPE', type, 'SKIPME', 'yes');
    }
  }

  /** Runs a command on the admin connection (authenticated, never dropped), e.g. `INFO stats`. */
  command(name: string, ...args: (string | number)[]): Promise<unknown> {
    return this.admin.call(name, ...args);
  }

  /** Disconnects the admin client, stops the server and removes the secret volume. */
  async stop(): Promise<void> {
    this.admin.disconnect();
    await this.server.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
