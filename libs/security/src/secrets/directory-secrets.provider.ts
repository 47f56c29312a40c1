import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretsSourceError } from './errors.js';
import { ReloadCoalescer } from './reload-coalescer.js';
import { Secret } from './secret.js';
import { SecretsProvider } from './secrets-provider.js';

/** Options of {@link DirectorySecretsProvider}. */
export interface DirectorySecretsOptions {
  /** The mounted secrets directory: one file per secret, the file name is the secret's name. */
  directory: string;
  /**
   * Re-read the directory this often, as a fallback for missed watch events (Kubernetes swaps a
   * `..data` symlink; some filesystems, e.g. network mounts, send no events). `0` turns it off.
   * @default 30000
   */
  pollIntervalMs?: number;
  /** Watch the directory with `fs.watch` for prompt reloads. @default true */
  watch?: boolean;
  /** The file name of a secret. @default the name itself */
  fileNameOf?: (name: string) => string;
  /** Larger files are skipped (logged at warn). @default 1048576 (1 MiB) */
  maxFileBytes?: number;
}

type Change = 'added' | 'updated' | 'removed';

/**
 * Secrets from a mounted directory (Kubernetes secret volume, Docker/Compose secrets, Vault agent
 * templates): one file per secret, one trailing newline trimmed, names starting with `.` ignored
 * (Kubernetes' `..data` machinery). The directory is read at construction, then re-read when
 * `fs.watch` reports anything and every `pollIntervalMs`; a changed value replaces the old one at
 * once and {@link onChange} listeners hear about it, so rotated secrets apply without a restart.
 * Call {@link close} (Nest does, on shutdown) to stop watching.
 */
export class DirectorySecretsProvider extends SecretsProvider {
  private values = new Map<string, string>();
  private readonly directory: string;
  private readonly fileNameOf: (name: string) => string;
  private readonly maxFileBytes: number;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private readonly reloads = new ReloadCoalescer(() => this.applyReload());
  private closed = false;

  /**
   * @throws SecretsSourceError when the directory cannot be read.
   */
  constructor(options: DirectorySecretsOptions) {
    super();
    this.directory = options.directory;
    this.fileNameOf = options.fileNameOf ?? ((name) => name);
    this.maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    this.values = this.readAllSync();
    if (options.watch ?? true) {
      try {
        this.watcher = watch(this.directory, { persistent: false }, () => void this.reload());
        this.watcher.on('error', (error) => {
          this.secretsLog.warn(
            { directory: this.directory, reason: error.message },
            'secrets directory watch failed; polling only',
          );
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch (error) {
        this.secretsLog.warn(
          { directory: this.directory, reason: (error as Error).message },
          'cannot watch the secrets directory; polling only',
        );
      }
    }
    const poll = options.pollIntervalMs ?? 30_000;
    if (poll > 0) this.timer = setInterval(() => void this.reload(), poll).unref();
  }

  get(name: string): Secret<string> | undefined {
    const value = this.values.get(this.fileNameOf(name));
    return value === undefined ? undefined : new Secret(value);
  }

  describe(name: string): string[] {
    return [join(this.directory, this.fileNameOf(name))];
  }

  /** The file names currently loaded. */
  names(): string[] {
    return [...this.values.keys()];
  }

  /**
   * Re-reads the directory now and applies changes (listeners are told before this resolves).
   * Calls made while a reload runs share one follow-up reload. Resolves with the changed names.
   */
  reload(): Promise<string[]> {
    if (this.closed) return Promise.resolve([]);
    return this.reloads.run();
  }

  /** Stops watching and polling. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
  }

  /** Nest lifecycle: stop watching on shutdown. */
  onModuleDestroy(): void {
    this.close();
  }

  private async applyReload(): Promise<string[]> {
    let next: Map<string, string>;
    try {
      next = await this.readAll();
    } catch (error) {
      // Keep serving the last good values: a half-swapped mount must not empty the secrets.
      this.secretsLog.warn(
        { directory: this.directory, reason: (error as NodeJS.ErrnoException).code ?? 'error' },
        'cannot re-read the secrets directory; keeping the loaded values',
      );
      return [];
    }
    if (this.closed) return [];
    const changes: Array<[string, Change]> = [];
    for (const [name, value] of next) {
      const old = this.values.get(name);
      if (old === undefined) changes.push([name, 'added']);
      else if (old !== value) changes.push([name, 'updated']);
    }
    for (const name of this.values.keys()) if (!next.has(name)) changes.push([name, 'removed']);
    this.values = next;
    for (const [name, change] of changes) {
      this.secretsLog.info({ name, change, directory: this.directory }, 'secret reloaded');
      const value = next.get(name);
      this.emitChange(name, value === undefined ? undefined : new Secret(value));
    }
    return changes.map(([name]) => name);
  }

  private accept(name: string, size: number): boolean {
    if (size <= this.maxFileBytes) return true;
    this.secretsLog.warn(
      { name, size, maxFileBytes: this.maxFileBytes },
      'secret file too large; skipped',
    );
    return false;
  }

  private readAllSync(): Map<string, string> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = readdirSync(this.directory).filter((n) => !n.startsWith('.'));
    } catch (error) {
      throw new SecretsSourceError(
        `secrets directory ${this.directory} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    for (const name of names) {
      try {
        const info = statSync(join(this.directory, name)); // follows the ..data symlinks
        if (!info.isFile() || !this.accept(name, info.size)) continue;
        out.set(name, trim(readFileSync(join(this.directory, name), 'utf8')));
      } catch {
        // vanished between listing and reading: not there
      }
    }
    return out;
  }

  private async readAll(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const names = (await readdir(this.directory)).filter((n) => !n.startsWith('.'));
    await Promise.all(
      names.map(async (name) => {
        try {
          const info = await stat(join(this.directory, name));
          if (!info.isFile() || !this.accept(name, info.size)) return;
          out.set(name, trim(await readFile(join(this.directory, name), 'utf8')));
        } catch {
          // vanished between listing and reading: not there
        }
      }),
    );
    return out;
  }
}

function trim(text: string): string {
  return text.replace(/\r?\n$/, '');
}
