// Fault drills under load: `npm run drills` runs every one in turn (one build first), `npm run
// drills -- <name> [...]` only those. Each drill runs the built sample API in production mode
// against the real services on a fresh database, disrupts one service and prints one verdict line
// `DRILL <name>: PASS|FAIL <numbers>`; the exit code is the number of failed drills.
// They stop and start shared services (RabbitMQ, Redis) and kill PostgreSQL backends of their own
// database: never run them next to the test suite. Not part of CI.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSampleApi } from '../lib.mjs';

if (Number(process.versions.node.split('.')[0]) < 22) {
  console.log(`drills need Node >= 22 (undici 8); this is ${process.version}: . scripts/node.sh`);
  process.exit(2);
}
const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && f !== 'lib.mjs')
  .map((f) => f.slice(0, -'.mjs'.length));
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !available.includes(a));
if (unknown.length) {
  console.log(`unknown drill(s): ${unknown.join(', ')}\navailable: ${available.join(', ')}`);
  process.exit(2);
}
buildSampleApi();
let failed = 0;
for (const drill of asked.length ? asked : available) {
  console.log(`\n=== drill ${drill} on Node ${process.version}`);
  const { status } = spawnSync(process.execPath, [`${dir}/${drill}.mjs`], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SKIP_BUILD: '1' },
  });
  if (status !== 0) failed++;
}
process.exit(failed);
