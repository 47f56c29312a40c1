import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The root logger's stdout destination, in a child process: what the built package writes.
const entry = new URL('../dist/logging/root-logger.js', import.meta.url).href;

/** Runs `script` (ESM) in a child node; resolves once `done(stdout)` says so, then kills it. */
function watch(
  script: string,
  done: (stdout: string, exited: boolean) => boolean,
): Promise<{ stdout: string; exited: boolean; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  return new Promise((resolve, reject) => {
    const check = (exited: boolean) => {
      if (done(stdout, exited)) {
        if (!exited) child.kill();
        resolve({ stdout, exited, ms: Date.now() - started });
      } else if (exited) {
        reject(new Error(`child exited without the expected output:\n${stdout}`));
      }
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      check(false);
    });
    child.once('exit', () => check(true));
  });
}

describe('the root logger on stdout', () => {
  it('writes every line before process.exit, in order', async () => {
    const { stdout } = await watch(
      `import { getLogger } from '${entry}';
       const log = getLogger('Spec');
       for (let i = 0; i < 1000; i++) log.info({ i }, 'line');
       process.exit(0);`,
      (_, exited) => exited,
    );
    const seen = stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('lets a lone line out within the idle flush while the process keeps running', async () => {
    const { exited, ms } = await watch(
      `import { getLogger } from '${entry}';
       getLogger('Spec').info('one');
       setTimeout(() => {}, 20_000);`,
      (stdout) => stdout.includes('"msg":"one"'),
    );
    expect(exited).toBe(false);
    expect(ms).toBeLessThan(10_000);
  });
});
