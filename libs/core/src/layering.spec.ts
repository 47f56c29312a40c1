import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The core lib is the ground floor: every lib imports it, so it imports no lib and no framework
// beyond @nestjs/common. Drivers (ioredis...) may appear only as `import type`; they are loaded at
// run time through loadDriver.
const FORBIDDEN = [
  'typeorm',
  '@nestjs/typeorm',
  '@nestjs/swagger',
  '@nestjs/terminus',
  'pino',
  'nestjs-pino',
  'prom-client',
  'nestjs-cls',
];
const RUNTIME_ALLOWED = (source: string) =>
  source.startsWith('.') || source.startsWith('node:') || source === '@nestjs/common';

/** Every module specifier of `text`, with whether it is type-only. */
function importsOf(file: string, text: string): Array<{ source: string; typeOnly: boolean }> {
  const found: Array<{ source: string; typeOnly: boolean }> = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly = ts.isImportDeclaration(node)
        ? node.importClause?.isTypeOnly === true
        : node.isTypeOnly;
      found.push({ source: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push({ source: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return found;
}

/** What is wrong with the imports of one file (empty when nothing is). */
function problemsOf(file: string, text: string): string[] {
  const isSpec = file.endsWith('.spec.ts');
  return importsOf(file, text).flatMap(({ source, typeOnly }) => {
    const pkg = source
      .split('/')
      .slice(0, source.startsWith('@') ? 2 : 1)
      .join('/');
    if (pkg.startsWith('@infrastructure/')) return [`${file} imports ${source}`];
    if (FORBIDDEN.includes(pkg)) return [`${file} imports ${source}`];
    if (typeOnly || RUNTIME_ALLOWED(source)) return [];
    if (isSpec && (pkg === 'vitest' || pkg === 'typescript')) return [];
    return [`${file} imports ${source} at run time (use import type, or loadDriver)`];
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the core lib is the ground floor', () => {
  const root = new URL('.', import.meta.url).pathname;

  it('imports no other lib, no framework beyond @nestjs/common, and drivers only as types', () => {
    const files = sourceFiles(root);
    expect(files.length).toBeGreaterThan(5);
    const problems = files.flatMap((path) =>
      problemsOf(relative(root, path), readFileSync(path, 'utf8')),
    );
    expect(problems).toEqual([]);
  });

  it('catches what it is there to catch', () => {
    expect(
      problemsOf('a.ts', "import { loadDriver } from '@infrastructure/persistence';"),
    ).toHaveLength(1);
    expect(problemsOf('a.ts', "import type { DataSource } from 'typeorm';")).toHaveLength(1);
    expect(problemsOf('a.ts', "import { Logger } from 'nestjs-pino';")).toHaveLength(1);
    expect(problemsOf('a.ts', "export { Counter } from 'prom-client';")).toHaveLength(1);
    expect(problemsOf('a.ts', "const r = await import('ioredis');")).toHaveLength(1);
    expect(problemsOf('a.ts', "import { Redis } from 'ioredis';")).toHaveLength(1);
    expect(problemsOf('a.ts', "import type { Redis } from 'ioredis';")).toEqual([]);
    expect(problemsOf('a.ts', "import { SetMetadata } from '@nestjs/common';")).toEqual([]);
    expect(problemsOf('a.ts', "import { setTimeout } from 'node:timers/promises';")).toEqual([]);
  });
});
