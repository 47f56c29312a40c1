import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const generations = new Map<string, number>();

/**
 * Writes `files` the way the kubelet updates a secret volume: a new timestamped dir, a
 * `..data_tmp` symlink renamed over `..data` (the atomic swap), `dir/<name>` → `..data/<name>`.
 * Tests of rotating secrets (JWT keys, webhook secrets, database and Redis passwords) use it.
 */
export function kubeletWrite(dir: string, files: Record<string, string>): void {
  const generation = (generations.get(dir) ?? 0) + 1;
  generations.set(dir, generation);
  const stamp = join(dir, `..2025_${process.pid}_${generation}`);
  mkdirSync(stamp);
  for (const [name, value] of Object.entries(files)) writeFileSync(join(stamp, name), value);
  const tmp = join(dir, '..data_tmp');
  symlinkSync(basename(stamp), tmp);
  renameSync(tmp, join(dir, '..data')); // the atomic swap
  for (const name of Object.keys(files)) {
    if (!existsSync(join(dir, name))) symlinkSync(join('..data', name), join(dir, name));
  }
  if (generation > 1) {
    rmSync(join(dir, `..2025_${process.pid}_${generation - 1}`), { recursive: true, force: true });
  }
}
