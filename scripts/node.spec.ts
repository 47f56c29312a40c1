import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const engines = (
  JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { engines: { node: string } }
).engines.node;

/** Runs `script` in bash after sourcing scripts/node.sh, with this test's node first on PATH. */
function withNodeSh(script: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-c', `. scripts/node.sh && ${script}`], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  }).trim();
}

/** `y` when node.sh's infra_version_ge says `a` >= `b`, else `n`. */
const ge = (a: string, b: string) => withNodeSh(`infra_version_ge ${a} ${b} && echo y || echo n`);

describe('scripts/node.sh', () => {
  it('reads its floor from engines.node', () => {
    expect(`>=${withNodeSh('infra_node_floor')}`).toBe(engines);
  });

  it('compares versions numerically, not as text', () => {
    expect(ge('22.22.0', '22.22.0')).toBe('y');
    expect(ge('22.100.1', '22.22.0')).toBe('y');
    expect(ge('24.1.0', '22.22.0')).toBe('y');
    expect(ge('22.9.0', '22.22.0')).toBe('n');
    expect(ge('20.20.2', '22.22.0')).toBe('n');
  });

  it('leaves a supported node alone: same node, PATH untouched, nothing installed', () => {
    const cache = mkdtempSync(`${tmpdir()}/node-sh-`);
    const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
    const out = withNodeSh('node --version; printf %s "$PATH"', {
      PATH: path,
      INFRA_NODE_CACHE: cache,
    }).split('\n');
    expect(out).toEqual([process.version, path]);
    expect(readdirSync(cache)).toEqual([]);
    rmSync(cache, { recursive: true, force: true });
  });
});
