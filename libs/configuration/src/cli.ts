import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigDefinition } from './config-definition.js';
import { detectDrift, formatDrift } from './drift.js';
import { encryptValue, parseEncryptionKey } from './encryption.js';
import { ConfigValidationError } from './errors.js';
import { ENCRYPTION_KEY_ENV, loadConfiguration, type LoadOptions } from './load-configuration.js';
import { RawSources } from './sources.js';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `usage:
  config encrypt <value>                 print enc:v1:<...> for <value> (key from ${ENCRYPTION_KEY_ENV}[_FILE])
  config check [--expected <file.json>]  print drift from a baseline (default: config/expected.<NODE_ENV>.json); exit 1 on drift
  config snapshot --out <file.json>      write the current baseline (secrets as sha256 fingerprints)
  config print                           print the effective configuration, secrets masked
  config docs                            print the env var table (markdown)`;

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

/**
 * The configuration CLI behind `npm run config:*`. Returns the process exit code.
 *
 * @example
 * // apps/my-api/src/config-cli.ts
 * process.exitCode = runConfigCli(definitions, process.argv.slice(2));
 */
export function runConfigCli(
  definitions: readonly ConfigDefinition[],
  argv: readonly string[],
  io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) },
  options: LoadOptions = {},
): number {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'encrypt': {
        const value = args.find((a) => !a.startsWith('--'));
        if (value === undefined) {
          io.err('config encrypt: give the value to encrypt');
          return 2;
        }
        const raw = RawSources.read(options).lookup(ENCRYPTION_KEY_ENV);
        if (!raw || raw.value === '') {
          io.err(
            `config encrypt: set ${ENCRYPTION_KEY_ENV} or ${ENCRYPTION_KEY_ENV}_FILE (32 bytes, base64 or hex)`,
          );
          return 2;
        }
        io.out(encryptValue(value, parseEncryptionKey(raw.value)));
        return 0;
      }
      case 'check': {
        const loaded = loadConfiguration(definitions, options);
        const given = option(args, '--expected');
        // The default baseline sits beside the app: config/expected.<NODE_ENV>.json, NODE_ENV as
        // the loader saw it (env or .env), development when unset (the schema's default).
        const file = given ?? `config/expected.${loaded.nodeEnv ?? 'development'}.json`;
        const path = given ?? join(options.envDir ?? process.cwd(), file);
        if (given === undefined && !existsSync(path)) {
          io.err(
            `config check: no baseline ${file}; write one with: config snapshot --out ${file}`,
          );
          return 2;
        }
        const expected = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
        const drift = detectDrift(loaded, expected);
        if (drift.length === 0) {
          io.out(`no drift from ${file}`);
          return 0;
        }
        io.out(formatDrift(drift));
        io.out(`${drift.length} key(s) drifted from ${file}`);
        return 1;
      }
      case 'snapshot': {
        const out = option(args, '--out');
        const body = JSON.stringify(
          loadConfiguration(definitions, options).toFingerprint(),
          null,
          2,
        );
        if (out) writeFileSync(out, `${body}\n`);
        else io.out(body);
        return 0;
      }
      case 'print':
        io.out(JSON.stringify(loadConfiguration(definitions, options).toSafeJSON(), null, 2));
        return 0;
      case 'docs':
        io.out(envTable(definitions));
        return 0;
      default:
        io.err(USAGE);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigValidationError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
}

/** A markdown table of every env var the definitions read, with defaults and descriptions. */
export function envTable(definitions: readonly ConfigDefinition[]): string {
  const rows = ['| Variable | Key | Default | Description |', '| --- | --- | --- | --- |'];
  for (const def of definitions) {
    for (const [name, field] of Object.entries(def.fields)) {
      const dflt =
        field.default === undefined
          ? field.required
            ? '*required*'
            : '—'
          : `\`${String(field.default)}\``;
      const desc = [field.description ?? '', field.secret ? '(secret)' : '']
        .filter(Boolean)
        .join(' ');
      rows.push(`| \`${field.env}\` | \`${def.namespace}.${name}\` | ${dflt} | ${desc} |`);
    }
  }
  return rows.join('\n');
}
