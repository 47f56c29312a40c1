// What the package tests share: the workspace's packages, their manifests and the package names a
// file imports.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  type?: string;
  license?: string;
  engines?: Record<string, string>;
  files?: string[];
  sideEffects?: boolean | string[];
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Folder under libs/ or apps/, e.g. `caching`. */
  folder: string;
  /** Path from the root, e.g. `libs/caching`. */
  dir: string;
  manifest: Manifest;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
}

/** The publishable packages (libs/*). */
export function libPackages(): WorkspacePackage[] {
  return readdirSync(join(root, 'libs'))
    .filter((f) => statSync(join(root, 'libs', f)).isDirectory())
    .sort()
    .map((folder) => ({
      folder,
      dir: `libs/${folder}`,
      manifest: readJson<Manifest>(`libs/${folder}/package.json`),
    }));
}

/** Every file under `dir` (from the root) whose name passes `keep`. */
export function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  const walk = (d: string): string[] =>
    readdirSync(join(root, d)).flatMap((f) => {
      const p = `${d}/${f}`;
      return statSync(join(root, p)).isDirectory() ? walk(p) : keep(p) ? [p] : [];
    });
  return walk(dir);
}

const SPECIFIER =
  /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\bloadDriver(?:<[^>]*>)?\(\s*['"]([^'"]+)['"]/g;

/**
 * The package names a source or emitted file imports: static and dynamic imports, `export … from`,
 * `typeof import('x')` in declarations and the optional drivers loaded through `loadDriver('x')`.
 * Relative paths and Node built-ins are left out.
 */
export function importedPackages(file: string): Set<string> {
  const text = readFileSync(join(root, file), 'utf8');
  const names = new Set<string>();
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec || spec.startsWith('.') || spec.startsWith('/')) continue;
    if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return names;
}

/** What a manifest lets its files import. */
export function declared(manifest: Manifest): Set<string> {
  return new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
}

/** Drivers and optional integrations: never a dependency, always an optional peer. */
export const DRIVERS = [
  'pg',
  'mysql2',
  'better-sqlite3',
  'ioredis',
  'amqplib',
  '@platformatic/kafka',
  'kafkajs',
  '@nats-io/transport-node',
  '@nats-io/jetstream',
  'mqtt',
  'argon2',
  'nodemailer',
  '@aws-sdk/client-s3',
  '@opentelemetry/sdk-node',
  '@fastify/otel',
];
