// Runs one benchmark: `npm run bench -- <name>` or `npm run bench:<name>`; `npm run bench -- all`
// runs every one in turn (one build, then BENCH_SKIP_BUILD=1). Without a name, lists them.
// Benchmarks are not tests: they print numbers and ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`${dir}/${d.name}/index.mjs`))
  .map((d) => d.name);
const [name, ...args] = process.argv.slice(2);
if (!name || (name !== 'all' && !available.includes(name))) {
  console.log(`usage: npm run bench -- <name>|all\navailable: ${available.join(', ')}`);
  process.exit(name ? 2 : 0);
}

function run(bench, env = process.env) {
  // The runtime is part of every result: the same bench moved 4× between Node 20 and 24 here.
  console.log(`\n=== bench ${bench} on Node ${process.version} (${process.arch})`);
  const result = spawnSync(process.execPath, [`${dir}/${bench}/index.mjs`, ...args], {
    stdio: 'inherit',
    env,
  });
  return result.status ?? 1;
}

if (name !== 'all') process.exit(run(name));
let failed = 0;
for (const [i, bench] of available.entries()) {
  const status = run(bench, i === 0 ? process.env : { ...process.env, BENCH_SKIP_BUILD: '1' });
  if (status !== 0) {
    console.log(`bench ${bench} exited ${status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
