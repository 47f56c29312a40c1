import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Which lib's sources may import which (docs/architecture.md, "Package graph"). Layers from the
 * ground up: core → configuration → monitoring → persistence, caching, http-client → messaging,
 * security, mail, blob-storage → event-sourcing, webhooks → testing. A lib imports only libs below it; a new lib takes its
 * place here first.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  configuration: ['core'],
  monitoring: ['core', 'configuration'],
  persistence: ['core', 'configuration', 'monitoring'],
  caching: ['core', 'configuration', 'monitoring'],
  messaging: ['core', 'configuration', 'monitoring', 'persistence'],
  security: ['core', 'configuration', 'monitoring', 'persistence'],
  'event-sourcing': ['core', 'configuration', 'monitoring', 'persistence', 'messaging'],
  'http-client': ['core', 'configuration', 'monitoring'],
  mail: ['core', 'configuration', 'monitoring', 'http-client'],
  'blob-storage': ['core', 'configuration', 'monitoring', 'http-client'],
  webhooks: ['core', 'configuration', 'monitoring', 'persistence', 'messaging', 'http-client'],
  testing: ['core', 'configuration', 'monitoring', 'persistence', 'messaging'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => `${e.parentPath}/${e.name}`);
}

const IMPORT = /(?:from\s+|import\s*\(\s*)'@infrastructure\/([a-z-]+)'/g;

describe('package graph', () => {
  const libs = readdirSync(`${root}/libs`);

  it('places every lib', () => {
    expect(libs.filter((l) => !(l in ALLOWED))).toEqual([]);
  });

  it.each(libs)('%s imports only the libs below it', (lib) => {
    const wrong: string[] = [];
    for (const file of sources(`${root}/libs/${lib}/src`)) {
      for (const [, dep] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        if (dep !== lib && !ALLOWED[lib]?.includes(dep!)) {
          wrong.push(`${file.slice(root.length)} imports @infrastructure/${dep}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('would catch a wrong import (the check itself)', () => {
    const line = "import { UnitOfWork } from '@infrastructure/persistence';";
    expect([...line.matchAll(IMPORT)].map((m) => m[1])).toEqual(['persistence']);
    expect(ALLOWED.caching).not.toContain('persistence');
    expect(ALLOWED['http-client']).not.toContain('messaging');
  });
});
