import { FileSecretsProvider } from './file-secrets.provider.js';
import { Secret } from './secret.js';
import { ANY_SECRET, SecretsProvider } from './secrets-provider.js';

/** Options of {@link EnvSecretsProvider}. */
export interface EnvSecretsOptions {
  /** The variables to read. @default process.env */
  env?: Record<string, string | undefined>;
  /**
   * Watch the files named by `NAME_FILE` variables and emit their changes (a rotated mounted
   * secret applies without a restart). `false`: read once, never emit. @default true
   */
  watchFiles?: boolean;
  /** Re-read watched `NAME_FILE` files this often (fallback for missed watch events); `0`: off. @default 30000 */
  pollIntervalMs?: number;
}

/**
 * Secrets from the environment, the way the configuration lib reads them: `NAME_FILE` (a file
 * path, Docker/Kubernetes secrets; one trailing newline trimmed) wins over `NAME`. Values are read
 * at first use. Variables never change; a `NAME_FILE` file is watched (its directory, and polled)
 * and a rotated value is served at once and emitted to {@link onChange} listeners
 * (`watchFiles: false` turns that off).
 */
export class EnvSecretsProvider extends SecretsProvider {
  private readonly env: Record<string, string | undefined>;
  private readonly cache = new Map<string, Secret<string> | undefined>();
  private readonly files: FileSecretsProvider;
  private readonly watchFiles: boolean;

  constructor(options: EnvSecretsOptions = {}) {
    super();
    this.env = options.env ?? process.env;
    this.watchFiles = options.watchFiles ?? true;
    this.files = new FileSecretsProvider({
      watch: this.watchFiles,
      pollIntervalMs: this.watchFiles ? (options.pollIntervalMs ?? 30_000) : 0,
    });
    this.files.onChange(ANY_SECRET, (secret, name) => this.emitChange(name, secret));
  }

  /**
   * @throws SecretsSourceError when `NAME_FILE` is set but the file cannot be read.
   */
  get(name: string): Secret<string> | undefined {
    const fromFile = this.files.get(name);
    if (fromFile) return fromFile;
    if (this.cache.has(name)) return this.cache.get(name);
    const file = this.env[`${name}_FILE`];
    if (file) return this.files.add(name, file, `${name}_FILE`);
    const value = this.env[name];
    const secret = value === undefined || value === '' ? undefined : new Secret(value);
    this.cache.set(name, secret);
    return secret;
  }

  describe(name: string): string[] {
    return [`env ${name}_FILE`, `env ${name}`];
  }

  /** Re-reads the `NAME_FILE` files read so far (see `FileSecretsProvider.reload`); nothing with `watchFiles: false`. */
  reload(): Promise<string[]> {
    return this.watchFiles ? this.files.reload() : Promise.resolve([]);
  }

  /** Stops watching the `NAME_FILE` files. */
  close(): void {
    this.files.close();
  }

  /** Nest lifecycle: stop watching on shutdown. */
  onModuleDestroy(): void {
    this.close();
  }
}
