import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Process-level tests run the built sample API exactly as `npm start` does; build it once per run.
// SKIP_SAMPLE_BUILD=1 skips it when running lib tests alone (the e2e tests then use the last build).
export default function setup(): void {
  if (process.env.SKIP_SAMPLE_BUILD === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  // `npm run build`: the packages (tsc -b into libs/*/dist, what the sample imports) and the sample.
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, ['node_modules/@nestjs/cli/bin/nest.js', 'build', 'sample-api'], {
    cwd: root,
    stdio: 'inherit',
  });
}
