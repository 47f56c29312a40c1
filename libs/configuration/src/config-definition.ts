import { z } from 'zod';
import { ConfigDefinitionError } from './errors.js';

/**
 * One configuration value: the environment variable that carries it, how to parse and validate
 * the raw string, and its default.
 */
export interface ConfigField<T = unknown> {
  /** Environment variable name, e.g. `PORT`. `<env>_FILE` is also read (Docker/Kubernetes secrets). */
  readonly env: string;
  /** Parses and validates the raw string. */
  readonly schema: z.ZodType<T>;
  /** Value used when no source sets the variable. Omit for a required or optional-without-default value. */
  readonly default?: T;
  /** When true the value is required: missing → boot error. @default false */
  readonly required?: boolean;
  /** Masks the value in dumps, errors and drift reports. @default false */
  readonly secret?: boolean;
  /** Human description of a valid value, used in error messages: `PORT: expected <expected>, got "abc"`. */
  readonly expected?: string;
  /** One line for the docs table. */
  readonly description?: string;
  /**
   * Marks a URL value (`cfg.url`). Dumps mask URL passwords and secret query parameters of every
   * string value whether or not it is set; kept for compatibility. @default false
   */
  readonly maskUrlPassword?: boolean;
}

/** The typed value of one field: `T`, or `T | undefined` when there is neither a default nor `required`. */
export type FieldValue<F> =
  F extends ConfigField<infer T>
    ? F extends { default: unknown }
      ? T
      : F extends { required: true }
        ? T
        : T | undefined
    : never;

/** A namespace of fields, e.g. `http` → `{ port, host, adapter }`. */
export type ConfigFields = Record<string, ConfigField<any>>;

/** The typed object a definition produces. */
export type ConfigValues<F extends ConfigFields> = { readonly [K in keyof F]: FieldValue<F[K]> };

/** A registered configuration namespace; its `KEY` is the injection token for its typed values. */
export interface ConfigDefinition<
  N extends string = string,
  F extends ConfigFields = ConfigFields,
> {
  readonly namespace: N;
  readonly fields: F;
  /** Injection token of this namespace's typed values. */
  readonly KEY: string;
}

/** The typed values of a definition: `ConfigOf<typeof httpConfig>`. */
export type ConfigOf<D> = D extends ConfigDefinition<string, infer F> ? ConfigValues<F> : never;

/** The whole typed configuration of a list of definitions, keyed by namespace. */
export type ConfigTree<Ds extends readonly ConfigDefinition[]> = {
  readonly [D in Ds[number] as D['namespace']]: ConfigOf<D>;
};

const NAMESPACE = /^[a-z][a-zA-Z0-9]*$/;
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Declares a configuration namespace. Other libs and apps register theirs; `ConfigurationModule`
 * validates all of them once at boot.
 *
 * @example
 * export const httpConfig = defineConfig('http', {
 *   port: { env: 'PORT', ...cfg.port(3000) },
 *   adapter: { env: 'HTTP_ADAPTER', ...cfg.oneOf(['express', 'fastify'] as const, 'express') },
 * });
 */
export function defineConfig<const N extends string, const F extends ConfigFields>(
  namespace: N,
  fields: F,
): ConfigDefinition<N, F> {
  if (!NAMESPACE.test(namespace)) {
    throw new ConfigDefinitionError(
      `defineConfig: namespace must be camelCase letters and digits, got "${namespace}"`,
    );
  }
  const seen = new Set<string>();
  for (const [key, field] of Object.entries(fields)) {
    if (!ENV_NAME.test(field.env)) {
      throw new ConfigDefinitionError(
        `defineConfig(${namespace}): ${key}.env must be UPPER_SNAKE_CASE, got "${field.env}"`,
      );
    }
    if (seen.has(field.env)) {
      throw new ConfigDefinitionError(`defineConfig(${namespace}): ${field.env} is used twice`);
    }
    seen.add(field.env);
  }
  return Object.freeze({ namespace, fields, KEY: `CONFIGURATION:${namespace}` });
}

/** Checks a list of definitions for duplicate namespaces and environment variables. */
export function assertDistinct(definitions: readonly ConfigDefinition[]): void {
  const namespaces = new Map<string, ConfigDefinition>();
  const envs = new Map<string, string>();
  for (const def of definitions) {
    const other = namespaces.get(def.namespace);
    if (other && other !== def) {
      throw new ConfigDefinitionError(`config namespace "${def.namespace}" is defined twice`);
    }
    if (other) continue;
    namespaces.set(def.namespace, def);
    for (const [key, field] of Object.entries(def.fields)) {
      const owner = envs.get(field.env);
      if (owner) {
        throw new ConfigDefinitionError(
          `${field.env} is used by both ${owner} and ${def.namespace}.${key}`,
        );
      }
      envs.set(field.env, `${def.namespace}.${key}`);
    }
  }
}

/** A field without its `env`: what the `cfg` builders return. */
export type FieldSpec<T> = Omit<ConfigField<T>, 'env'>;

/** A spec whose `default` / `required` are known to the type system, so values are typed `T`, not `T | undefined`. */
export type SpecFor<T, O> = FieldSpec<T> &
  (O extends { default: infer D }
    ? [D] extends [undefined]
      ? unknown
      : { default: T }
    : unknown) &
  (O extends { required: true } ? { required: true } : unknown);

interface StringOptions {
  default?: string;
  required?: boolean;
  minLength?: number;
}
interface IntOptions {
  min?: number;
  max?: number;
  default?: number;
  required?: boolean;
}
interface UrlOptions {
  schemes: readonly string[];
  default?: string;
  required?: boolean;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function stringSpec(opts: StringOptions): FieldSpec<string> {
  const min = opts.minLength ?? 0;
  return {
    schema: z.string().trim().min(min),
    expected: min > 0 ? `a string of at least ${min} characters` : 'a string',
    default: opts.default,
    required: opts.required,
  };
}

function intSpec(opts: IntOptions): FieldSpec<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const expected =
    opts.min !== undefined && opts.max !== undefined
      ? `an integer ${min}-${max}`
      : opts.min !== undefined
        ? `an integer >= ${min}`
        : opts.max !== undefined
          ? `an integer <= ${max}`
          : 'an integer';
  return {
    schema: z
      .string()
      .trim()
      .regex(/^[+-]?\d+$/)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
    expected,
    default: opts.default,
    required: opts.required,
  };
}

/**
 * Field builders with parsing and an `expected` text for error messages. Spread them into a field:
 * `{ env: 'PORT', ...cfg.port(3000) }`. A default (or `required: true`) makes the value's type `T`.
 */
export const cfg = {
  /** Any string (trimmed). */
  string<const O extends StringOptions = {}>(opts?: O): SpecFor<string, O> {
    return stringSpec(opts ?? {}) as SpecFor<string, O>;
  },
  /** A secret string: masked in dumps, errors and drift reports, never logged. */
  secret<const O extends StringOptions = {}>(opts?: O): SpecFor<string, O> {
    return { ...stringSpec(opts ?? {}), secret: true } as SpecFor<string, O>;
  },
  /** An integer within [min, max]. */
  int<const O extends IntOptions = {}>(opts?: O): SpecFor<number, O> {
    return intSpec(opts ?? {}) as SpecFor<number, O>;
  },
  /** A TCP port, 1-65535. */
  port<const D extends number | undefined = undefined>(
    defaultPort?: D,
  ): SpecFor<number, { default: D }> {
    return intSpec({ min: 1, max: 65535, default: defaultPort }) as SpecFor<number, { default: D }>;
  },
  /** A boolean: true/false, 1/0, yes/no, on/off (case-insensitive). */
  bool<const D extends boolean | undefined = undefined>(
    defaultValue?: D,
  ): SpecFor<boolean, { default: D }> {
    return {
      schema: z
        .string()
        .trim()
        .toLowerCase()
        .refine((v) => TRUE.has(v) || FALSE.has(v))
        .transform((v) => TRUE.has(v)),
      expected: 'true or false',
      default: defaultValue,
    } as SpecFor<boolean, { default: D }>;
  },
  /** One of a fixed set of strings. */
  oneOf<
    const T extends readonly [string, ...string[]],
    const D extends T[number] | undefined = undefined,
  >(values: T, defaultValue?: D): SpecFor<T[number], { default: D }> {
    return {
      schema: z.enum(values as unknown as [string, ...string[]]) as unknown as z.ZodType<T[number]>,
      expected: `one of ${values.join(', ')}`,
      default: defaultValue,
    } as SpecFor<T[number], { default: D }>;
  },
  /** A URL whose scheme is one of `schemes` (without the colon); the password is masked in dumps. */
  url<const O extends UrlOptions>(opts: O): SpecFor<string, O> {
    const schemes = opts.schemes.map((s) => s.replace(/:$/, ''));
    return {
      schema: z
        .string()
        .trim()
        .refine((v) => {
          const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(v)?.[1]?.toLowerCase();
          if (!scheme || !schemes.includes(scheme)) return false;
          if (scheme === 'sqlite') return v.length > 'sqlite:'.length;
          return URL.canParse(v);
        }),
      expected: `a URL starting with ${schemes.map((s) => `${s}:`).join(', ')}`,
      default: opts.default,
      required: opts.required,
      maskUrlPassword: true,
    } as SpecFor<string, O>;
  },
  /** A comma-separated list of non-empty strings. */
  list<const D extends readonly string[] | undefined = undefined>(
    defaultValue?: D,
  ): SpecFor<readonly string[], { default: D }> {
    return {
      schema: z.string().transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
      expected: 'a comma-separated list',
      default: defaultValue,
    } as SpecFor<readonly string[], { default: D }>;
  },
} as const;
