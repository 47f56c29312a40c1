import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SecretsSourceError } from './errors.js';
import { ReloadCoalescer } from './reload-coalescer.js';
import { Secret } from './secret.js';
import { SecretsProvider } from './secrets-provider.js';

/** Options of {@link FileSecretsProvider}. */
export interface FileSecretsOptions {
  /** Secret name → file path (`{ JWT_PRIVATE_KEY: '/run/secrets/jwt/private.pem' }`). @default {} */
  files?: Record<string, string>;
  /**
   * Re-read the files this often, as a fallback for missed watch events (network mounts send
   * none). `0` turns it off. @default 30000
   */
  pollIntervalMs?: number;
  /** Watch the files' directories with `fs.watch` for prompt reloads. @default true */
  watch?: boolean;
}

/**
 * Secrets read from single files (one secret a file, one trailing newline trimmed), reloaded when
 * they change: the directory holding each file is watched (a Kubernetes `..data` symlink swap, a
 * write-and-rename, an edit all show there) and every file is re-read every `pollIntervalMs`.
 * A changed value replaces the old one at once and {@link onChange} listeners hear about it. A
 * file that cannot be re-read keeps its last value (a half-swapped mount must not empty a secret).
 * The environment provider uses it for `NAME_FILE` variables, so those rotate too.
 */
export class FileSecretsProvider extends SecretsProvider {
  private readonly paths = new Map<string, string>();
  private readonly values = new Map<string, string>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly watchDirs: boolean;
  private readonly pollIntervalMs: number;
  private timer?: NodeJS.Timeout;
  private readonly reloads = new ReloadCoalescer(() => this.applyReload());
  private closed = false;

  /**
   * @throws SecretsSourceError when a file cannot be read.
   */
  constructor(options: FileSecretsOptions = {}) {
    super();
    this.watchDirs = options.watch ?? true;
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    for (const [name, path] of Object.entries(options.files ?? {})) this.add(name, path);
  }

  /**
   * Serves secret `name` from `path` from now on (read now, then watched).
   * @param label how errors name the source. @default the secret's name
   * @throws SecretsSourceError when the file cannot be read.
   */
  add(name: string, path: string, label = name): Secret<string> {
    let value: string;
    try {
      value = trim(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new SecretsSourceError(
        `${label}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    this.paths.set(name, path);
    this.values.set(name, value);
    if (!this.closed) this.watchDirectory(dirname(path));
    if (!this.timer && !this.closed && this.pollIntervalMs > 0) {
      this.timer = setInterval(() => void this.reload(), this.pollIntervalMs).unref();
    }
    return new Secret(value);
  }

  get(name: string): Secret<string> | undefined {
    const value = this.values.get(name);
    return value === undefined ? undefined : new Secret(value);
  }

  describe(name: string): string[] {
    const path = this.paths.get(name);
    return path ? [path] : [];
  }

  /**
   * Re-reads the files now and applies changes (listeners are told before this resolves). Calls
   * made while a reload runs share one follow-up reload. Resolves with the changed names.
   */
  reload(): Promise<string[]> {
    if (this.closed) return Promise.resolve([]);
    return this.reloads.run();
  }

  /** Stops watching and polling. */
  close(): void {
    this.closed = true;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    if (this.timer) clearInterval(this.timer);
  }

  /** Nest lifecycle: stop watching on shutdown. */
  onModuleDestroy(): void {
    this.close();
  }

  private watchDirectory(directory: string): void {
    if (!this.watchDirs || this.watchers.has(directory)) return;
    try {
      const watcher = watch(directory, { persistent: false }, () => void this.reload());
      watcher.on('error', (error) => {
        this.secretsLog.warn(
          { directory, reason: error.message },
          'secret file watch failed; polling only',
        );
        watcher.close();
        this.watchers.delete(directory);
      });
      this.watchers.set(directory, watcher);
    } catch (error) {
      this.secretsLog.warn(
        { directory, reason: (error as Error).message },
        'cannot watch the directory of a secret file; polling only',
      );
    }
  }

  private async applyReload(): Promise<string[]> {
    const read = await Promise.all(
      [...this.paths].map(async ([name, path]) => {
        try {
          return [name, trim(await readFile(path, 'utf8'))] as const;
        } catch (error) {
          this.secretsLog.warn(
            { name, path, reason: (error as NodeJS.ErrnoException).code ?? 'error' },
            'cannot re-read a secret file; keeping the loaded value',
          );
          return [name, undefined] as const;
        }
      }),
    );
    if (this.closed) return [];
    const changed: string[] = [];
    for (const [name, value] of read) {
      if (value === undefined || this.values.get(name) === value) continue;
      this.values.set(name, value);
      changed.push(name);
    }
    for (const name of changed) {
      this.secretsLog.info(
        { name, change: 'updated', path: this.paths.get(name) },
        'secret reloaded',
      );
      this.emitChange(name, new Secret(this.values.get(name)!));
    }
    return changed;
  }
}

function trim(text: string): string {
  return text.replace(/\r?\n$/, '');
}
