import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The consumer tests pack what `tsc -b` built into libs/*/dist (`npm run build:libs`).
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
