import { createHash } from 'node:crypto';
import { maskUrlPassword, maskUrlsInText } from '@infrastructure/core';
import {
  assertDistinct,
  type ConfigDefinition,
  type ConfigField,
  type ConfigOf,
  type ConfigTree,
} from './config-definition.js';
import { decryptValue, isEncryptedValue, parseEncryptionKey } from './encryption.js';
import { ConfigDecryptionError, ConfigValidationError, type ConfigProblem } from './errors.js';
import { RawSources, SecretFileError, type SourceOptions, type ValueSource } from './sources.js';

/** The env var that holds the key for `enc:v1:` values (or `CONFIG_ENCRYPTION_KEY_FILE`). */
export const ENCRYPTION_KEY_ENV = 'CONFIG_ENCRYPTION_KEY';

/** What is known about one loaded value. */
export interface ConfigEntry {
  /** Dotted key, `http.port`. */
  readonly key: string;
  readonly env: string;
  readonly value: unknown;
  readonly source: ValueSource | { readonly kind: 'unset' };
  /**
   * Declared secret, read from a `_FILE`, decrypted from `enc:v1:`, or a URL carrying a password
   * or a secret query parameter (`?sig=…`, see `SECRET_QUERY_PARAM`): fingerprinted in snapshots
   * and drift reports. Dumps show the first three as `***`, such URLs with those parts masked.
   */
  readonly secret: boolean;
  readonly encrypted: boolean;
  readonly field: ConfigField;
}

/** Options for {@link loadConfiguration}. */
export type LoadOptions = SourceOptions;

const MASK = '***';

function describeReceived(value: string, secret: boolean): string {
  if (secret) return `"${MASK}"`;
  // A malformed URL may still carry credentials (`http://user:pw@host:port,x`): mask them anyway.
  const masked = maskUrlsInText(value);
  const shown = masked.length > 80 ? `${masked.slice(0, 77)}...` : masked;
  return JSON.stringify(shown);
}

/**
 * The validated configuration: typed values per namespace, where each came from, and a safe dump.
 * Built once at boot by {@link loadConfiguration}.
 */
export class LoadedConfiguration<T = Record<string, Record<string, unknown>>> {
  /** Typed values keyed by namespace: `values.http.port`. */
  readonly values: T;
  private readonly entries = new Map<string, ConfigEntry>();
  private readonly definitions = new Map<string, ConfigDefinition>();
  private encryptionKey: Buffer | undefined;

  /** @internal use {@link loadConfiguration}. */
  constructor(
    private readonly sources: RawSources,
    definitions: readonly ConfigDefinition[],
  ) {
    assertDistinct(definitions);
    const values: Record<string, Record<string, unknown>> = {};
    const problems: ConfigProblem[] = [];
    for (const def of new Set(definitions)) {
      values[def.namespace] = this.resolve(def, problems);
    }
    if (problems.length > 0) throw new ConfigValidationError(problems);
    this.values = values as T;
  }

  /** The NODE_ENV that selected `.env.<NODE_ENV>` (undefined when unset everywhere). */
  get nodeEnv(): string | undefined {
    return this.sources.nodeEnv;
  }

  /** The `.env` files that were read, in precedence order. */
  get filesRead(): readonly string[] {
    return this.sources.filesRead;
  }

  /** The typed values of one definition; loads and validates it if it was not part of the boot set. */
  get<D extends ConfigDefinition>(definition: D): ConfigOf<D> {
    const known = this.definitions.get(definition.namespace);
    if (known && known !== definition) {
      assertDistinct([known, definition]);
    }
    const values = this.values as Record<string, Record<string, unknown>>;
    if (!known) {
      assertDistinct([...this.definitions.values(), definition]);
      const problems: ConfigProblem[] = [];
      const loaded = this.resolve(definition, problems);
      if (problems.length > 0) throw new ConfigValidationError(problems);
      values[definition.namespace] = loaded;
    }
    return values[definition.namespace] as ConfigOf<D>;
  }

  /** Every loaded value with its source and secrecy, in definition order. */
  describe(): readonly ConfigEntry[] {
    return [...this.entries.values()];
  }

  /**
   * The effective configuration with every secret shown as `***`, and URL passwords and secret
   * query parameters (`?token=***`) masked in every string value.
   * Safe to log or serve to operators.
   */
  toSafeJSON(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const entry of this.entries.values()) {
      const [ns, key] = splitKey(entry.key);
      (out[ns] ??= {})[key] = safeValue(entry);
    }
    return out;
  }

  /**
   * Flat `key → value` map for drift detection: secrets replaced by `sha256:<hex>` of their value,
   * unset optional values left out.
   */
  toFingerprint(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const entry of this.entries.values()) {
      if (entry.value === undefined) continue;
      out[entry.key] = entry.secret ? fingerprintSecret(entry.value) : entry.value;
    }
    return out;
  }

  private resolve(def: ConfigDefinition, problems: ConfigProblem[]): Record<string, unknown> {
    this.definitions.set(def.namespace, def);
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(def.fields)) {
      const key = `${def.namespace}.${name}`;
      const entry = this.resolveField(key, field, problems);
      if (entry) {
        this.entries.set(key, entry);
        out[name] = entry.value;
      }
    }
    return Object.freeze(out);
  }

  private resolveField(
    key: string,
    field: ConfigField,
    problems: ConfigProblem[],
  ): ConfigEntry | undefined {
    const problem = (env: string, message: string): undefined => {
      problems.push({ env, key, message });
      return undefined;
    };
    let raw;
    try {
      raw = this.sources.lookup(field.env);
    } catch (e) {
      if (e instanceof SecretFileError) return problem(e.env, e.message);
      throw e;
    }
    const expected = field.expected ?? 'a valid value';
    if (raw === undefined || raw.value === '') {
      if (field.default !== undefined) {
        return entry(field.default, { kind: 'default' }, false);
      }
      if (field.required) return problem(field.env, `required: expected ${expected}, not set`);
      return entry(undefined, { kind: 'unset' }, false);
    }
    let text = raw.value;
    const encrypted = isEncryptedValue(text);
    if (encrypted) {
      try {
        text = decryptValue(text, this.key());
      } catch (e) {
        if (e instanceof ConfigDecryptionError) return problem(field.env, e.message);
        throw e;
      }
    }
    const secret = Boolean(field.secret) || encrypted || raw.source.kind === 'secret-file';
    const where = raw.source.kind === 'secret-file' ? raw.source.via : field.env;
    const parsed = field.schema.safeParse(text);
    if (!parsed.success) {
      const detail = field.expected ? '' : ` (${parsed.error.issues[0]?.message ?? 'invalid'})`;
      return problem(where, `expected ${expected}, got ${describeReceived(text, secret)}${detail}`);
    }
    return entry(parsed.data, raw.source, encrypted);

    function entry(
      value: unknown,
      source: ConfigEntry['source'],
      wasEncrypted: boolean,
    ): ConfigEntry {
      return {
        key,
        env: field.env,
        value,
        source,
        secret:
          Boolean(field.secret) ||
          wasEncrypted ||
          (source.kind === 'secret-file' && value !== undefined) ||
          maskStrings(value) !== value,
        encrypted: wasEncrypted,
        field,
      };
    }
  }

  private key(): Buffer {
    if (this.encryptionKey) return this.encryptionKey;
    const raw = this.sources.lookup(ENCRYPTION_KEY_ENV);
    if (!raw || raw.value === '') {
      throw new ConfigDecryptionError(
        `value is encrypted (enc:v1:) but ${ENCRYPTION_KEY_ENV} (or ${ENCRYPTION_KEY_ENV}_FILE) is not set`,
      );
    }
    this.encryptionKey = parseEncryptionKey(raw.value);
    return this.encryptionKey;
  }
}

function splitKey(key: string): [string, string] {
  const dot = key.indexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** `value` with URL passwords and secret query parameters masked (strings and string lists). */
function maskStrings(value: unknown): unknown {
  if (typeof value === 'string') return maskUrlPassword(value);
  if (Array.isArray(value)) {
    const masked = value.map((v: unknown) => (typeof v === 'string' ? maskUrlPassword(v) : v));
    return masked.some((v, i) => v !== value[i]) ? masked : value;
  }
  return value;
}

function safeValue(entry: ConfigEntry): unknown {
  if (entry.value === undefined) return null;
  if (entry.field.secret || entry.encrypted || entry.source.kind === 'secret-file') return MASK;
  return maskStrings(entry.value);
}

/** `sha256:<hex>` of a secret value, for comparing without revealing it. */
export function fingerprintSecret(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/**
 * Reads every source, decrypts, validates every definition and returns the typed configuration.
 * Precedence, lowest first: defaults < `.env` < `.env.<NODE_ENV>` < process env < `<VAR>_FILE`.
 *
 * @throws ConfigValidationError listing every problem (env var, expected, received; secrets masked).
 */
export function loadConfiguration<const Ds extends readonly ConfigDefinition[]>(
  definitions: Ds,
  options: LoadOptions = {},
): LoadedConfiguration<ConfigTree<Ds>> {
  return new LoadedConfiguration<ConfigTree<Ds>>(RawSources.read(options), definitions);
}
