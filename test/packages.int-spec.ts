import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { declared, filesUnder, importedPackages, libPackages, root } from './packages.js';

// What users get: the files `tsc -b` emitted into libs/*/dist (built by the int project's global
// setup, as `npm run build` does) and the tarballs `npm pack` makes of them.
const libs = libPackages();

describe.each(libs)('$manifest.name as built', ({ dir, manifest }) => {
  it('emits .js and .d.ts that import only package names its package.json declares', () => {
    const allowed = declared(manifest);
    const emitted = filesUnder(`${dir}/dist`, (f) => f.endsWith('.js') || f.endsWith('.d.ts'));
    expect(emitted.length).toBeGreaterThan(0);
    const undeclared = emitted.flatMap((f) =>
      [...importedPackages(f)].filter((n) => !allowed.has(n)).map((n) => `${f}: ${n}`),
    );
    expect(undeclared).toEqual([]);
  });
});

describe('npm pack --workspaces', () => {
  interface Packed {
    name: string;
    files: { path: string }[];
  }
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--workspaces', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as Packed[];

  it('packs every lib', () => {
    expect(packed.map((p) => p.name)).toEqual(
      expect.arrayContaining(libs.map((p) => p.manifest.name)),
    );
  });

  // src/ ships (without specs) so that the source and declaration maps lead somewhere.
  it.each(libs)(
    '$manifest.name: dist js, declarations and README; no tests or benches',
    ({ manifest }) => {
      const files = packed.find((p) => p.name === manifest.name)!.files.map((f) => f.path);
      expect(files).toEqual(
        expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']),
      );
      expect(files.filter((f) => f.endsWith('.js')).length).toBeGreaterThan(0);
      const unwanted = files.filter(
        (f) =>
          /\.spec\.|\.int-spec\.|\.e2e-spec\./.test(f) ||
          /^(test|bench)\//.test(f) ||
          f.endsWith('.tsbuildinfo') ||
          (f.startsWith('dist/') && f.endsWith('.ts') && !f.endsWith('.d.ts')),
      );
      expect(unwanted).toEqual([]);
    },
  );
});
