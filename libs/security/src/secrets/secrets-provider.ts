import { getLogger } from '@infrastructure/monitoring';
import { SecretNotFoundError } from './errors.js';
import type { Secret } from './secret.js';

/**
 * Called when a secret's value changed (rotated), with the new value, or `undefined` when the
 * secret disappeared. Errors and rejections are logged (never the value) and do not stop the
 * other listeners.
 */
export type SecretChangeListener = (
  secret: Secret<string> | undefined,
  name: string,
) => void | Promise<void>;

/** Subscribe to every secret's changes with this name. */
export const ANY_SECRET = '*';

/**
 * The port for secrets: read one by name, and hear when it is rotated. Adapters: environment
 * variables and `NAME_FILE` files ({@link EnvSecretsProvider}), a mounted secrets directory that
 * reloads on rotation ({@link DirectorySecretsProvider}), and a chain of both
 * ({@link CompositeSecretsProvider}, made by `createSecretsProvider`). Inject `SecretsProvider`;
 * tests replace it with `new EnvSecretsProvider({ env: { ... } })`.
 */
export abstract class SecretsProvider {
  private readonly listeners = new Map<string, Set<SecretChangeListener>>();
  protected readonly secretsLog = getLogger('Secrets');

  /** The secret's current value, or `undefined` when this provider does not have it. */
  abstract get(name: string): Secret<string> | undefined;

  /** Where this provider looks for `name` (for error messages; never values). */
  abstract describe(name: string): string[];

  /**
   * The secret's current value.
   * @throws SecretNotFoundError listing where it looked.
   */
  require(name: string): Secret<string> {
    const secret = this.get(name);
    if (secret === undefined) throw new SecretNotFoundError(name, this.describe(name));
    return secret;
  }

  /**
   * Calls `listener` each time secret `name` changes (`'*'`: any secret). Returns the function
   * that unsubscribes. The JWT keyring and database pool listen here to pick up rotated keys and
   * passwords without a restart.
   */
  onChange(name: string, listener: SecretChangeListener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Tells the listeners of `name` (and of `'*'`) about a change. */
  protected emitChange(name: string, secret: Secret<string> | undefined): void {
    for (const key of [name, ANY_SECRET]) {
      for (const listener of this.listeners.get(key) ?? []) {
        try {
          const result = listener(secret, name);
          if (result && typeof (result as Promise<void>).catch === 'function') {
            (result as Promise<void>).catch((error: unknown) =>
              this.listenerFailed(name, error, secret),
            );
          }
        } catch (error) {
          this.listenerFailed(name, error, secret);
        }
      }
    }
  }

  private listenerFailed(name: string, error: unknown, secret: Secret<string> | undefined): void {
    // A listener's error message may quote the value it choked on: cut it out.
    const value = secret?.reveal();
    let reason = String((error as Error)?.message ?? error);
    if (value) reason = reason.split(value).join('***');
    this.secretsLog.error(
      { name, error: (error as Error)?.name ?? 'Error', reason },
      'secret change listener failed',
    );
  }
}
