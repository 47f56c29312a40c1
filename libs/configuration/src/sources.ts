import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

/** Where a raw value came from, lowest precedence first. */
export type ValueSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'env-file'; readonly file: string }
  | { readonly kind: 'env' }
  | { readonly kind: 'secret-file'; readonly file: string; readonly via: string };

/** A raw string value and its source. */
export interface RawValue {
  readonly value: string;
  readonly source: ValueSource;
}

/** Options for reading raw sources. */
export interface SourceOptions {
  /** Environment to read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory holding `.env` and `.env.<NODE_ENV>`. @default process.cwd() */
  readonly envDir?: string;
  /** Read `.env` files at all. @default true */
  readonly envFiles?: boolean;
}

/** The merged raw sources: every variable's winning raw value, before `_FILE` and decryption. */
export class RawSources {
  private constructor(
    private readonly merged: ReadonlyMap<string, RawValue>,
    /** The NODE_ENV used to pick `.env.<NODE_ENV>`. */
    readonly nodeEnv: string | undefined,
    /** The env files that were found and read. */
    readonly filesRead: readonly string[],
  ) {}

  /**
   * Reads defaults < `.env` < `.env.<NODE_ENV>` < process env. `_FILE` indirections are resolved
   * later, per variable, by {@link RawSources.lookup}, so they win over all of these.
   */
  static read(options: SourceOptions = {}): RawSources {
    const env = options.env ?? process.env;
    const dir = options.envDir ?? process.cwd();
    const merged = new Map<string, RawValue>();
    const filesRead: string[] = [];
    const readFile = (name: string): Record<string, string> | undefined => {
      try {
        const parsed = parse(readFileSync(join(dir, name)));
        filesRead.push(name);
        return parsed;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    };
    const base = options.envFiles === false ? undefined : readFile('.env');
    const nodeEnv = env.NODE_ENV ?? base?.NODE_ENV;
    const layers: Array<[Record<string, string | undefined> | undefined, ValueSource]> = [
      [base, { kind: 'env-file', file: '.env' }],
    ];
    if (options.envFiles !== false && nodeEnv && /^[a-z0-9_-]+$/i.test(nodeEnv)) {
      const file = `.env.${nodeEnv}`;
      layers.push([readFile(file), { kind: 'env-file', file }]);
    }
    layers.push([env, { kind: 'env' }]);
    for (const [layer, source] of layers) {
      if (!layer) continue;
      for (const [name, value] of Object.entries(layer)) {
        if (value !== undefined) merged.set(name, { value, source });
      }
    }
    return new RawSources(merged, nodeEnv, filesRead);
  }

  /** The raw value of a variable named directly, without `_FILE`. */
  direct(name: string): RawValue | undefined {
    return this.merged.get(name);
  }

  /**
   * The raw value of `name`: the content of the file named by `<name>_FILE` when that is set
   * (Docker/Kubernetes secrets; one trailing newline trimmed), else the variable itself.
   * @throws Error naming `<name>_FILE` when that file cannot be read.
   */
  lookup(name: string): RawValue | undefined {
    const pointer = this.merged.get(`${name}_FILE`);
    if (pointer && pointer.value !== '') {
      let content: string;
      try {
        content = readFileSync(pointer.value, 'utf8');
      } catch (e) {
        throw new SecretFileError(
          `${name}_FILE`,
          `cannot read "${pointer.value}" (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        );
      }
      return {
        value: content.replace(/\r?\n$/, ''),
        source: { kind: 'secret-file', file: pointer.value, via: `${name}_FILE` },
      };
    }
    return this.merged.get(name);
  }
}

/** A `_FILE` pointer that could not be read; carries the variable name for the problem list. */
export class SecretFileError extends Error {
  override readonly name = 'SecretFileError';
  constructor(
    readonly env: string,
    message: string,
  ) {
    super(message);
  }
}
