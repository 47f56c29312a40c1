// npm run migration:generate -- <Name>: writes apps/sample-api/src/migrations/<timestamp>-<Name>.ts
// from the difference between the entities and the database DATABASE_URL points at.
import { spawnSync } from 'node:child_process';

const name = process.argv[2];
if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
  console.error('usage: npm run migration:generate -- <PascalCaseName>');
  process.exit(2);
}
const result = spawnSync(
  'node_modules/.bin/typeorm',
  [
    'migration:generate',
    '-d',
    'dist/apps/sample-api/src/data-source.js',
    `apps/sample-api/src/migrations/${name}`,
    '--pretty',
  ],
  { stdio: 'inherit' },
);
if (result.status === 0) {
  console.log(
    `\nAdd the new class to apps/sample-api/src/migrations/index.ts, then: npm run migration:run`,
  );
}
process.exit(result.status ?? 1);
