import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Process-level tests run the built sample API exactly as `npm start` does; build it once per run.
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/@nestjs/cli/bin/nest.js', 'build', 'sample-api'], {
    cwd: root,
    stdio: 'inherit',
  });
}
