import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  declared,
  DRIVERS,
  filesUnder,
  importedPackages,
  libPackages,
  readJson,
  root,
  type Manifest,
} from './packages.js';

// Every lib is an npm package users install (issue "Packages"): these checks run on the manifests
// and the sources; packages.int-spec.ts checks what `tsc -b` emitted and what `npm pack` packs.
const rootManifest = readJson<Manifest & { workspaces: string[] }>('package.json');
const libs = libPackages();
const versions = new Map(libs.map((p) => [p.manifest.name, p.manifest.version]));

describe('workspace', () => {
  it('is a private root with libs/* and apps/* as workspaces', () => {
    expect(rootManifest.private).toBe(true);
    expect(rootManifest.workspaces).toEqual(['libs/*', 'apps/*']);
  });

  it('has no @infrastructure/* path aliases: packages resolve through node_modules', () => {
    for (const file of [
      'tsconfig.json',
      'tsconfig.base.json',
      'apps/sample-api/tsconfig.app.json',
    ]) {
      const { compilerOptions } = readJson<{ compilerOptions?: { paths?: unknown } }>(file);
      expect({ file, paths: compilerOptions?.paths }).toEqual({ file, paths: undefined });
    }
  });

  it('builds every lib through tsc -b project references', () => {
    const build = readJson<{ references: { path: string }[] }>('tsconfig.build.json');
    expect(build.references.map((r) => r.path).sort()).toEqual(libs.map((p) => p.dir).sort());
  });
});

describe.each(libs)('$manifest.name', ({ folder, dir, manifest }) => {
  it('is named after its folder, versioned, ESM, MIT, with the root engines', () => {
    expect(manifest.name).toBe(`@infrastructure/${folder}`);
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.private).toBeUndefined();
    expect(manifest.type).toBe('module');
    expect(manifest.license).toBe('MIT');
    expect(manifest.engines).toEqual(rootManifest.engines);
  });

  it('exports types and an import entry for "." from dist, and packs dist, sources and docs', () => {
    const main = manifest.exports?.['.'] as Record<string, string>;
    expect(main).toMatchObject({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(main['@infrastructure/source']).toBe('./src/index.ts');
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (typeof target === 'string') continue;
      const source = target['@infrastructure/source'];
      expect(existsSync(join(root, dir, source)), `${subpath} -> ${source}`).toBe(true);
      expect(target.import).toBe(source.replace('./src/', './dist/').replace(/\.ts$/, '.js'));
      expect(target.types).toBe(source.replace('./src/', './dist/').replace(/\.ts$/, '.d.ts'));
    }
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'README.md']));
    expect(existsSync(join(root, dir, 'README.md'))).toBe(true);
  });

  it('has a README that opens with its install line', () => {
    const readme = readFileSync(join(root, dir, 'README.md'), 'utf8');
    const opening = readme.split('\n').slice(0, 4).join('\n');
    expect(opening).toMatch(
      new RegExp(
        `^# ${manifest.name}\\n\\n\`\`\`bash\\nnpm install (--save-dev )?${manifest.name}\\b`,
      ),
    );
  });

  it('lists no driver in dependencies; every driver it uses is an optional peer', () => {
    const deps = Object.keys(manifest.dependencies ?? {});
    expect(deps.filter((d) => DRIVERS.includes(d))).toEqual([]);
    const required = Object.keys(manifest.peerDependencies ?? {}).filter(
      (peer) => DRIVERS.includes(peer) && manifest.peerDependenciesMeta?.[peer]?.optional !== true,
    );
    expect(required).toEqual([]);
  });

  it('takes Nest, reflect-metadata and rxjs as peers, never as its own copies', () => {
    const shared = ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs'];
    expect(shared.filter((name) => manifest.dependencies?.[name] !== undefined)).toEqual([]);
    expect(Object.keys(manifest.peerDependencies ?? {})).toEqual(
      expect.arrayContaining(['@nestjs/common', '@nestjs/core']),
    );
  });

  it('depends on sibling packages by name and a caret range of their version', () => {
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      if (!name.startsWith('@infrastructure/')) continue;
      expect({ name, known: versions.has(name) }).toEqual({ name, known: true });
      expect(range).toBe(`^${versions.get(name)}`);
    }
  });

  it('references in tsconfig.json exactly the sibling packages it depends on', () => {
    const tsconfig = readJson<{ references?: { path: string }[] }>(`${dir}/tsconfig.json`);
    const refs = (tsconfig.references ?? []).map((r) => r.path.replace('../', '@infrastructure/'));
    const siblings = Object.keys(manifest.dependencies ?? {}).filter((d) =>
      d.startsWith('@infrastructure/'),
    );
    expect(refs.sort()).toEqual(siblings.sort());
  });

  it('imports in its sources only what its package.json declares', () => {
    const allowed = declared(manifest);
    const undeclared = filesUnder(
      `${dir}/src`,
      (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'),
    ).flatMap((f) =>
      [...importedPackages(f)].filter((n) => !allowed.has(n)).map((n) => `${f}: ${n}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('pins the same range as the root for every third-party package (one version in the tree)', () => {
    const pinned = { ...rootManifest.devDependencies };
    const differing = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })
      .filter(([name]) => !name.startsWith('@infrastructure/'))
      .filter(([name, range]) => pinned[name] !== range)
      .map(([name, range]) => `${name}: ${range} (root ${pinned[name]})`);
    expect(differing).toEqual([]);
  });
});

describe('the sample API', () => {
  const manifest = readJson<Manifest>('apps/sample-api/package.json');

  it('is a private workspace that depends on the packages like a user app', () => {
    expect(manifest.private).toBe(true);
    const siblings = Object.entries(manifest.dependencies ?? {}).filter(([name]) =>
      name.startsWith('@infrastructure/'),
    );
    expect(siblings.length).toBeGreaterThan(0);
    expect(siblings.filter(([name, range]) => range !== `^${versions.get(name)}`)).toEqual([]);
  });

  it('imports only what its package.json declares', () => {
    const allowed = declared(manifest);
    const undeclared = filesUnder(
      'apps/sample-api/src',
      (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'),
    ).flatMap((f) =>
      [...importedPackages(f)].filter((n) => !allowed.has(n)).map((n) => `${f}: ${n}`),
    );
    expect(undeclared).toEqual([]);
  });
});
