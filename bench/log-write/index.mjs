// What writing one access line to stdout costs, by destination: the root logger's chunked
// hand-over (@infrastructure/monitoring's ChunkedLines in front of an asynchronous sonic-boom),
// sonic-boom's own `minLength: 4096` buffering (what the root logger used before) and pino's
// default destination (synchronous, a write per line: what nestjs-pino gives by default).
// Each in its own child process writing to a file in a temp dir, rounds alternating; a line per
// "request", the event loop turned every 16 lines as a server's would be. Prints CPU ns per line
// (the process's, threads included) without the loop's own cost (a run that builds the lines and
// writes nothing), and each against the chunked one.
//
// BENCH_LINES (default 200,000 per round), BENCH_ROUNDS (default 3).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleApi, root } from '../lib.mjs';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const child = process.argv[2];

if (child) {
  const [mode, file] = [child, process.argv[3]];
  const { pino } = await import('pino');
  const { ChunkedLines } = await import(
    new URL('libs/monitoring/dist/logging/root-logger.js', `file://${root}/`).href
  );
  const { openSync } = await import('node:fs');
  const fd = openSync(file, 'w');
  const line = `${JSON.stringify({
    level: 'info',
    time: new Date().toISOString(),
    pid: process.pid,
    context: 'HttpAccess',
    correlationId: '8f2efde9-efd4-4bea-b818-a29bc2ae661b',
    userId: 'compose-demo',
    service: 'sample-api',
    method: 'GET',
    path: '/v1/orders/3cb7031f-f5a6-4d2a-9cbf-8ae8094b0b68',
    route: '/v1/orders/:id',
    statusCode: 200,
    durationMs: 0.1,
    msg: 'GET /v1/orders/:id 200 0ms',
  })}\n`;
  let write;
  let stream;
  if (mode === 'chunked') {
    stream = pino.destination({ dest: fd, sync: false, minLength: 0 });
    const lines = new ChunkedLines(stream);
    write = (l) => lines.write(l);
  } else if (mode === 'sonic-minlength') {
    stream = pino.destination({ dest: fd, sync: false, minLength: 4096 });
    write = (l) => stream.write(l);
  } else if (mode === 'pino-default') {
    stream = pino.destination({ dest: fd });
    write = (l) => stream.write(l);
  } else {
    write = (l) => {
      globalThis.sink = l;
    };
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const cpu = process.cpuUsage();
  for (let i = 0; i < LINES; i++) {
    write(line.replace('0.1', String(i % 10)));
    if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  stream?.flushSync();
  const used = process.cpuUsage(cpu);
  process.stdout.write(String(((used.user + used.system) * 1000) / LINES));
  process.exit(0);
}

buildSampleApi();
const dir = mkdtempSync(join(tmpdir(), 'bench-log-write-'));
const modes = [
  ['none', 'the loop alone (lines built, nothing written)'],
  ['chunked', 'root logger: ChunkedLines + async sonic-boom'],
  ['sonic-minlength', 'async sonic-boom, minLength 4096 (before)'],
  ['pino-default', "pino's default destination (sync, a write a line)"],
];
const results = new Map(modes.map(([m]) => [m, []]));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < modes.length; i++) {
      const [mode] = modes[(i + r) % modes.length];
      const out = spawnSync(
        process.execPath,
        [new URL(import.meta.url).pathname, mode, join(dir, `${mode}.log`)],
        { encoding: 'utf8', cwd: root },
      );
      if (out.status !== 0) throw new Error(`${mode}: ${out.stderr}`);
      results.get(mode).push(Number(out.stdout));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results.get('none'));
const net = (m) => median(results.get(m)) - base;
console.log(
  `\nlog-write: a 354-byte access line, ${LINES.toLocaleString('en-US')} a round, ${ROUNDS} rounds (median), node ${process.version}`,
);
console.log(`  loop alone: ${base.toFixed(0)} ns/line (subtracted below)`);
for (const [mode, label] of modes.slice(1)) {
  console.log(
    `  ${label.padEnd(52)} ${net(mode).toFixed(0).padStart(5)} ns/line  ${(net(mode) / net('chunked')).toFixed(2)}x chunked`,
  );
}
