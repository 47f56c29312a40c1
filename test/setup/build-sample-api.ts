import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import buildPackages from './build-packages.js';

// Process-level tests run the built sample API exactly as `npm start` does; build it once per run
// (`npm run build`: the packages into libs/*/dist, which the sample imports, then the sample).
// SKIP_SAMPLE_BUILD=1 skips it when running lib tests alone (the e2e tests then use the last build).
export default function setup(): void {
  if (process.env.SKIP_SAMPLE_BUILD === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  buildPackages();
  execFileSync(process.execPath, ['node_modules/@nestjs/cli/bin/nest.js', 'build', 'sample-api'], {
    cwd: root,
    stdio: 'inherit',
  });
}
