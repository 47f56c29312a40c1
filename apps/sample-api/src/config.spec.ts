import { fileURLToPath } from 'node:url';
import { runConfigCli } from '@infrastructure/configuration';
import { describe, expect, it } from 'vitest';
import { definitions } from './config.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('the committed drift baseline', () => {
  it('matches the defaults: `config check` on a clean environment reports no drift', () => {
    const out: string[] = [];
    // What `env -i PATH=$PATH HOME=$HOME npm run config:check` does, from the repository root: no
    // variables (vitest's own NODE_ENV=test included), no developer `.env`, the default baseline.
    const code = runConfigCli(
      definitions,
      ['check'],
      { out: (l) => out.push(l), err: (l) => out.push(l) },
      { env: {}, envDir: root, envFiles: false },
    );
    expect(out.join('\n')).toBe('no drift from config/expected.development.json');
    expect(code).toBe(0);
  });
});
