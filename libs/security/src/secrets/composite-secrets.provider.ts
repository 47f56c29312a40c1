import {
  DirectorySecretsProvider,
  type DirectorySecretsOptions,
} from './directory-secrets.provider.js';
import { EnvSecretsProvider } from './env-secrets.provider.js';
import { FileSecretsProvider } from './file-secrets.provider.js';
import type { Secret } from './secret.js';
import { ANY_SECRET, SecretsProvider } from './secrets-provider.js';

/**
 * Looks a secret up in several providers, first match wins, and forwards their change events
 * for the names it would answer from them (a change in a provider shadowed by an earlier one
 * is not an effective change and is not forwarded).
 */
export class CompositeSecretsProvider extends SecretsProvider {
  constructor(readonly providers: readonly SecretsProvider[]) {
    super();
    providers.forEach((provider, i) => {
      provider.onChange(ANY_SECRET, (secret, name) => {
        if (providers.slice(0, i).some((p) => p.get(name) !== undefined)) return;
        this.emitChange(name, secret ?? this.fromAfter(i, name));
      });
    });
  }

  get(name: string): Secret<string> | undefined {
    for (const provider of this.providers) {
      const secret = provider.get(name);
      if (secret !== undefined) return secret;
    }
    return undefined;
  }

  describe(name: string): string[] {
    return this.providers.flatMap((p) => p.describe(name));
  }

  /** Closes the providers that watch something. */
  close(): void {
    for (const p of this.providers) (p as { close?: () => void }).close?.();
  }

  /** Nest lifecycle: stop watching on shutdown. */
  onModuleDestroy(): void {
    this.close();
  }

  private fromAfter(i: number, name: string): Secret<string> | undefined {
    for (const provider of this.providers.slice(i + 1)) {
      const secret = provider.get(name);
      if (secret !== undefined) return secret;
    }
    return undefined;
  }
}

/** Options of {@link createSecretsProvider}. */
export interface SecretsOptions {
  /**
   * Secrets in single files, watched for rotation (first in the lookup order):
   * `{ JWT_PRIVATE_KEY: '/run/secrets/jwt/private.pem' }` (`securityOptionsFrom` puts
   * `JWT_PRIVATE_KEY_FILE` here). @default none
   */
  files?: Record<string, string>;
  /**
   * A mounted secrets directory that reloads on rotation (first in the lookup order), or its
   * full options. @default none
   */
  directory?: string | DirectorySecretsOptions;
  /**
   * Read `NAME_FILE` / `NAME` variables (after the directory; `NAME_FILE` files are watched for
   * rotation). `false` turns it off. @default process.env
   */
  env?: Record<string, string | undefined> | false;
}

/**
 * The secrets provider for an app: the given files (rotate), the mounted directory when given
 * (rotates), then the environment (`NAME_FILE`, which rotates, then `NAME`).
 *
 * @example
 * const secrets = createSecretsProvider({ directory: process.env.SECRETS_DIR });
 * secrets.onChange('DB_PASSWORD', (s) => pool.updatePassword(s?.reveal()));
 */
export function createSecretsProvider(options: SecretsOptions = {}): SecretsProvider {
  const providers: SecretsProvider[] = [];
  if (options.files && Object.keys(options.files).length > 0) {
    providers.push(new FileSecretsProvider({ files: options.files }));
  }
  if (options.directory) {
    providers.push(
      new DirectorySecretsProvider(
        typeof options.directory === 'string'
          ? { directory: options.directory }
          : options.directory,
      ),
    );
  }
  if (options.env !== false) providers.push(new EnvSecretsProvider({ env: options.env }));
  return providers.length === 1 ? providers[0]! : new CompositeSecretsProvider(providers);
}
