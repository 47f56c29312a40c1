import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC compiles the tests: Nest's DI needs decorator metadata, which esbuild does not emit.
const plugins = [
  swc.vite({
    module: { type: 'es6' },
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    },
  }),
];

// Tests run on the sources: each package's exports map has an "@infrastructure/source" entry
// (./src/*.ts) next to the built "import" one (./dist/*.js); users never set that condition.
const resolve = {
  conditions: ['@infrastructure/source', 'module', 'node', 'development|production'],
};
const ssr = {
  resolve: {
    conditions: ['@infrastructure/source', 'node', 'development|production'],
    externalConditions: [],
  },
};

export default defineConfig({
  plugins,
  resolve,
  ssr,
  test: {
    // The JSON report feeds .ci/run's closing "N passed, M failed" line.
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    // Since vitest 5 an inline project extends this file: the plugins and resolve apply to each.
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: [
            'libs/**/src/**/*.spec.ts',
            'apps/**/src/**/*.spec.ts',
            'scripts/**/*.spec.ts',
            'test/**/*.spec.ts',
          ],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'int',
          sequence: { groupOrder: 0 },
          include: [
            'libs/**/test/**/*.int-spec.ts',
            'apps/**/test/**/*.{int,e2e}-spec.ts',
            'test/**/*.int-spec.ts',
          ],
          globalSetup: ['test/setup/build-sample-api.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // A user's app outside the repo, from `npm pack` tarballs and a plain npm install
          // (test/consumer). The packages are built first (tsc -b).
          name: 'consumer',
          include: ['test/consumer/**/*.consumer-spec.ts'],
          globalSetup: ['test/setup/build-packages.ts'],
          environment: 'node',
          // Last: its npm installs and native builds would compete with the timed tests for CPU.
          sequence: { groupOrder: 2 },
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          // Drills disrupt the shared brokers: after every other project, one file at a time.
          name: 'drill',
          include: ['test/drills/**/*.drill-spec.ts'],
          environment: 'node',
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
