// Runs one benchmark: `npm run bench -- <name>` or `npm run bench:<name>`. Without a name, lists them.
// Benchmarks are not tests: they print numbers and ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`${dir}/${d.name}/index.mjs`))
  .map((d) => d.name);
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.log(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(process.execPath, [`${dir}/${name}/index.mjs`, ...args], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
