import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { definitions } from '../apps/sample-api/src/config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(`${root}/${file}`, 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number>;
  volumes?: string[];
  secrets?: string[];
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
};

describe('docker-compose.yml', () => {
  it('runs the whole real stack plus the sample API', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'grafana',
        'jaeger',
        'kafka',
        'mariadb',
        'mosquitto',
        'nats',
        'payments',
        'postgres',
        'prometheus',
        'rabbitmq',
        'redis',
        'sample-api',
      ].sort(),
    );
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.image ?? service.build, `${name} has an image or a build`).toBeTruthy();
    }
    expect(compose.services['sample-api']!.build).toBe('.');
  });

  it('points the sample API at the fake payment provider service', () => {
    const payments = compose.services.payments as ComposeService & { command?: string[] };
    expect(payments.command?.join(' ')).toContain(
      'dist/apps/sample-api/src/payments/fake-payment-server.js',
    );
    expect(compose.services['sample-api']!.environment?.PAYMENTS_URL).toBe(
      `http://payments:${payments.environment?.PORT}`,
    );
  });

  it('sets only environment variables the sample API configuration knows', () => {
    const known = new Set<string>();
    for (const def of definitions) {
      for (const field of Object.values(def.fields)) {
        known.add(field.env);
        known.add(`${field.env}_FILE`);
      }
    }
    const set = Object.keys(compose.services['sample-api']!.environment ?? {});
    expect(set.length).toBeGreaterThan(5);
    expect(set.filter((name) => !known.has(name))).toEqual([]);
  });

  it('gives a new user an OAuth client that production mode accepts, and the README says how to use it', () => {
    const api = compose.services['sample-api']!;
    expect(api.environment?.NODE_ENV).toBe('production');
    const mount = String(api.environment?.AUTH_CLIENTS_FILE ?? '');
    const name = mount.replace('/run/secrets/', '');
    expect(api.secrets).toContain(name);
    const [id, hash, scopes] = read(compose.secrets![name]!.file).trim().split('|');
    // Not the embedded `demo` client, which production refuses.
    expect(id).toBe('compose-demo');
    expect(hash).toBe(`sha256:${createHash('sha256').update('compose-demo-secret').digest('hex')}`);
    expect(scopes).toBe('orders:read orders:write');
    const readme = read('README.md');
    expect(readme).toContain('"client_id":"compose-demo","client_secret":"compose-demo-secret"');
    expect(readme).toContain('"client_id":"demo","client_secret":"demo-secret"');
  });

  it('mounts only files that exist in the repository', () => {
    const files = Object.values(compose.services).flatMap((s) =>
      (s.volumes ?? []).map((v) => v.split(':')[0]!).filter((p) => p.startsWith('./')),
    );
    files.push(...Object.values(compose.secrets ?? {}).map((s) => s.file));
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((f) => !existsSync(`${root}/${f}`))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('is multi-stage, runs as a non-root user and has a HEALTHCHECK on /health/live', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/health\/live/m);
    expect(dockerfile).toContain('dist/apps/sample-api/src/main.js');
    expect(dockerfile).toContain('@infrastructure/monitoring/tracing/register');
  });
});

describe('Node.js runtime', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const floorMajor = Number(/>=\s*(\d+)\./.exec(engines)?.[1]);

  it('declares a floor on a supported line (22 or later)', () => {
    expect(engines).toMatch(/^>=\d+\.\d+\.\d+$/);
    expect(floorMajor).toBeGreaterThanOrEqual(22);
  });

  it('pins 24 for nvm and friends, and builds the image on 24', () => {
    expect(read('.nvmrc').trim()).toBe('24');
    expect(read('.node-version').trim()).toBe('24');
    const bases = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    expect(new Set(bases)).toEqual(new Set(['24']));
  });

  it('is the line the running tests use', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(floorMajor);
  });
});

describe('README.md', () => {
  const readme = read('README.md');

  it('documents every environment variable the sample API reads', () => {
    const envs = definitions.flatMap((d) => Object.values(d.fields).map((f) => f.env));
    expect(envs.filter((env) => !readme.includes(`| \`${env}\` |`))).toEqual([]);
  });

  it('links every lib README', () => {
    const libs = [
      'blob-storage',
      'caching',
      'configuration',
      'core',
      'event-sourcing',
      'http-client',
      'mail',
      'messaging',
      'monitoring',
      'persistence',
      'security',
      'testing',
      'webhooks',
    ];
    for (const lib of libs) expect(readme).toContain(`(libs/${lib}/README.md)`);
  });
});
