// Cold start to first 200 on /health/live, and RSS at that moment: sample API vs a bare Nest app
// vs plain node:http, median of 5 runs each, in one run so the ratios are meaningful on a noisy box.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { buildSampleApi, freePort, root, serverNode, serverNodeVersion } from '../lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function measure(args, env = {}) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(serverNode, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      // production refuses a per-process signing key unless told (one process, thrown away)
      JWT_ALLOW_EPHEMERAL_KEY: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`${args.join(' ')} exited before answering`);
      if (performance.now() - started > 30_000) throw new Error('no 200 within 30 s');
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/live`);
        await res.arrayBuffer();
        if (res.status === 200) {
          return { ms: performance.now() - started, rss: rssMb(child.pid) };
        }
      } catch {
        await new Promise((r) => setTimeout(r, 5)); // polling for a port to open: nothing to await
      }
    }
  } finally {
    child.kill('SIGKILL');
    if (!exited) await once(child, 'exit');
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function series(label, args, env) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure(args, env));
  const r = { label, ms: median(runs.map((x) => x.ms)), rss: median(runs.map((x) => x.rss)) };
  console.log(
    `${label.padEnd(34)} ${r.ms.toFixed(0).padStart(6)} ms ${r.rss.toFixed(1).padStart(7)} MB`,
  );
  return r;
}

buildSampleApi();

const plain = `require('node:http').createServer((q,s)=>s.end('{"status":"ok"}')).listen(+process.env.PORT,'127.0.0.1')`;
console.log(
  `\nstartup: median of ${RUNS} cold starts to first 200 on /health/live (node ${serverNodeVersion})`,
);
const base = await series('plain node:http', ['-e', plain]);
const nest = await series('bare Nest 12 (express)', ['bench/startup/bare-nest.mjs']);
// BENCH_BARE_ONLY=1: the baselines only (a runtime the sample no longer loads on, say).
if (process.env.BENCH_BARE_ONLY === '1') process.exit(0);
const sample = await series(
  'sample-api (express, defaults)',
  ['dist/apps/sample-api/src/main.js'],
  {
    DATABASE_URL: 'sqlite::memory:',
  },
);
const sampleFastify = await series(
  'sample-api (fastify, defaults)',
  ['dist/apps/sample-api/src/main.js'],
  {
    DATABASE_URL: 'sqlite::memory:',
    HTTP_ADAPTER: 'fastify',
  },
);
console.log('\nratios (time, RSS):');
for (const r of [sample, sampleFastify]) {
  console.log(
    `  ${r.label} vs bare Nest: ${(r.ms / nest.ms).toFixed(2)}x, ${(r.rss / nest.rss).toFixed(2)}x;` +
      ` vs node:http: ${(r.ms / base.ms).toFixed(2)}x, ${(r.rss / base.rss).toFixed(2)}x`,
  );
}
const ok = sample.ms <= 1500 && sample.rss <= 150;
console.log(`goal (sample-api express <= 1500 ms and <= 150 MB): ${ok ? 'met' : 'NOT met'}`);
