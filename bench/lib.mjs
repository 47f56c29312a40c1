// What every benchmark shares: the repository root, the build of the libs, server processes.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root (benchmarks run from anywhere). */
export const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds the packages (`tsc -b` into each lib's `dist/`: what the benchmarks import by package name)
 * and the sample API into `dist/`, unless `BENCH_SKIP_BUILD=1` (repeated runs).
 */
export function buildSampleApi() {
  if (process.env.BENCH_SKIP_BUILD === '1') return;
  console.log('building (tsc -b the packages, nest build sample-api)...');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, ['node_modules/@nestjs/cli/bin/nest.js', 'build', 'sample-api'], {
    cwd: root,
    stdio: 'inherit',
  });
}

/**
 * The node that runs the measured servers: this one, or `BENCH_SERVER_NODE` (a path) to compare
 * runtimes on the same box in one sitting (e.g. the machine's Node 20 against the project's 24; only
 * what still loads on that runtime, such as the bare Nest apps, can run there).
 */
export const serverNode = process.env.BENCH_SERVER_NODE || process.execPath;

/** The version of {@link serverNode}, for the bench headers. */
export const serverNodeVersion =
  serverNode === process.execPath
    ? process.version
    : execFileSync(serverNode, ['--version'], { encoding: 'utf8' }).trim();

/**
 * Starts `script` (relative to the root) as a child process and resolves once it prints
 * `ready <port>`: `{ child, port }`. `env` is added to this process's environment.
 */
export async function startServerProcess(script, env = {}, label = script) {
  const child = spawn(serverNode, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const chunk of child.stdout) {
    out += chunk;
    const m = /ready (\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]) };
  }
  throw new Error(`${label} did not start`);
}

/** CPU time (user + system) of a process in ms, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A TCP port free on 127.0.0.1 right now (for a server process that takes it from its env). */
export async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

/**
 * The sample API's production-mode credentials for benches and drills: the example JWT secret and
 * client file (deploy/secrets), its issuer/audience, and a rate limit high enough not to trip.
 */
export const SAMPLE_PRODUCTION_ENV = {
  NODE_ENV: 'production',
  LOG_PRETTY: 'false',
  JWT_SECRET_FILE: 'deploy/secrets/jwt_secret.example',
  AUTH_CLIENTS_FILE: 'deploy/secrets/auth_clients.example',
  JWT_ISSUER: 'sample-api',
  JWT_AUDIENCE: 'sample-api',
  RATE_LIMIT_PER_MINUTE: '1000000',
};

/** An access token of the `compose-demo` client (deploy/secrets/auth_clients.example) from `url`. */
export async function sampleToken(url) {
  const res = await fetch(`${url}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=compose-demo&client_secret=compose-demo-secret',
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}
