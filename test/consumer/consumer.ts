// A user's app outside the repository: the packages as `npm pack` makes them, installed into a
// fresh Nest 12 ESM project with a plain `npm install` (no legacy-peer-deps, no overrides).
import { execFile } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { libPackages, readJson, root, type Manifest } from '../packages.js';

const run = promisify(execFile);

/** The tarballs of every lib, by package name (`npm pack` into a temp folder). */
export async function packAll(): Promise<Map<string, string>> {
  const into = mkdtempSync(join(tmpdir(), 'infra-tarballs-'));
  const libs = libPackages();
  const args = [
    'pack',
    '--json',
    '--pack-destination',
    into,
    ...libs.flatMap((p) => ['-w', p.dir]),
  ];
  const { stdout } = await run('npm', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout) as { name: string; filename: string }[];
  return new Map(packed.map((p) => [p.name, join(into, p.filename)]));
}

/** The @infrastructure packages `names` need, themselves included (their dependencies' closure). */
export function withSiblings(names: string[]): string[] {
  const manifests = new Map(libPackages().map((p) => [p.manifest.name, p.manifest]));
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys(manifests.get(name)?.dependencies ?? {})) {
      if (dep.startsWith('@infrastructure/')) visit(dep);
    }
  };
  names.forEach(visit);
  return [...seen].sort();
}

export interface ConsumerApp {
  dir: string;
  /** Runs `npm <args>` in the app. */
  npm(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Installed package names (node_modules/.package-lock.json). */
  installed(): string[];
  /** Size of node_modules in bytes. */
  nodeModulesBytes(): number;
}

const rootRanges = (): Record<string, string> =>
  readJson<Manifest>('package.json').devDependencies ?? {};

/**
 * Creates the app: `packages` (@infrastructure names, installed from `tarballs` with their
 * siblings), `extra` third-party packages at the root's ranges, `files` (path → text) on top of a
 * strict tsconfig with `skipLibCheck: false`; then `npm install`.
 */
export async function createConsumerApp(opts: {
  name: string;
  tarballs: Map<string, string>;
  packages: string[];
  extra: string[];
  files: Record<string, string>;
}): Promise<ConsumerApp> {
  const dir = mkdtempSync(join(tmpdir(), `infra-consumer-${opts.name}-`));
  const ranges = rootRanges();
  const dependencies: Record<string, string> = {};
  for (const name of withSiblings(opts.packages))
    dependencies[name] = `file:${opts.tarballs.get(name)}`;
  for (const name of [
    '@nestjs/common',
    '@nestjs/core',
    '@nestjs/platform-express',
    'reflect-metadata',
    'rxjs',
    ...opts.extra,
  ]) {
    if (!ranges[name]) throw new Error(`no range for ${name} in the root package.json`);
    dependencies[name] = ranges[name];
  }
  const manifest = {
    name: `consumer-${opts.name}`,
    private: true,
    type: 'module',
    dependencies,
    devDependencies: { typescript: ranges.typescript, '@types/node': ranges['@types/node'] },
    allowScripts: {
      'better-sqlite3': true,
      argon2: true,
      '@scarf/scarf': false,
      protobufjs: false,
    },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'ES2023',
        lib: ['ES2023', 'ESNext.Disposable'],
        types: ['node'],
        strict: true,
        skipLibCheck: false,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        outDir: 'dist',
        rootDir: 'src',
      },
      include: ['src'],
    }),
  );
  for (const [path, text] of Object.entries(opts.files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const app: ConsumerApp = {
    dir,
    npm: (args) => run('npm', args, { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: process.env }),
    installed: () => {
      const lock = JSON.parse(
        readFileSync(join(dir, 'node_modules/.package-lock.json'), 'utf8'),
      ) as {
        packages: Record<string, unknown>;
      };
      return Object.keys(lock.packages)
        .filter((k) => k.startsWith('node_modules/'))
        .map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length));
    },
    nodeModulesBytes: () => du(join(dir, 'node_modules')),
  };
  await app.npm(['install', '--no-audit', '--no-fund', '--prefer-offline']);
  return app;
}

function du(path: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink()) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, f) => sum + du(join(path, f)), 0);
}
