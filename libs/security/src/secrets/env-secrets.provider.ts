import { readFileSync } from 'node:fs';
import { SecretsSourceError } from './errors.js';
import { Secret } from './secret.js';
import { SecretsProvider } from './secrets-provider.js';

/** Options of {@link EnvSecretsProvider}. */
export interface EnvSecretsOptions {
  /** The variables to read. @default process.env */
  env?: Record<string, string | undefined>;
}

/**
 * Secrets from the environment, the way the configuration lib reads them: `NAME_FILE` (a file
 * path, Docker/Kubernetes secrets; one trailing newline trimmed) wins over `NAME`. Values are read
 * once, at first use: this provider never changes and never emits a change (mount a directory
 * and use {@link DirectorySecretsProvider} for secrets that rotate).
 */
export class EnvSecretsProvider extends SecretsProvider {
  private readonly env: Record<string, string | undefined>;
  private readonly cache = new Map<string, Secret<string> | undefined>();

  constructor(options: EnvSecretsOptions = {}) {
    super();
    this.env = options.env ?? process.env;
  }

  /**
   * @throws SecretsSourceError when `NAME_FILE` is set but the file cannot be read.
   */
  get(name: string): Secret<string> | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    const secret = this.read(name);
    this.cache.set(name, secret);
    return secret;
  }

  describe(name: string): string[] {
    return [`env ${name}_FILE`, `env ${name}`];
  }

  private read(name: string): Secret<string> | undefined {
    const file = this.env[`${name}_FILE`];
    if (file) {
      try {
        return new Secret(readFileSync(file, 'utf8').replace(/\r?\n$/, ''));
      } catch (error) {
        throw new SecretsSourceError(
          `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : new Secret(value);
  }
}
