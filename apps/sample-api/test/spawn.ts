import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

// The built sample API as `npm start` runs it, for the e2e specs that need a real process.

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = 'dist/apps/sample-api/src/main.js';
export const tracing = '@infrastructure/monitoring/tracing/register';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Children still running: killed when the test process exits (a timed-out test never kills its own). */
const running = new Set<ReturnType<typeof spawn>>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function run(env: Record<string, string>, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_PRETTY: 'false',
      DATABASE_URL: 'sqlite::memory:',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before listening:\n${output}`)),
    );
  });
  listening.catch(() => undefined); // awaited by the tests that expect a boot
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, listening, exited, output: () => output };
}

/**
 * The built app under the tracing entry, exporting spans to `endpoint` (an {@link otlpReceiver})
 * over OTLP/HTTP JSON in 50 ms batches.
 */
export function runTraced(endpoint: string, env: Record<string, string>) {
  return run(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      ...env,
    },
    ['--import', tracing],
  );
}

/** Resolves once `app` listens; fails with its output after `ms`. */
export function listeningWithin(app: ReturnType<typeof run>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    app.listening,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not listening after ${ms / 1000} s:\n${app.output()}`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

/** A span as OTLP/HTTP JSON carries it. */
export interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string } }>;
  links?: Array<{ traceId: string; spanId: string }>;
  events?: Array<{ name: string }>;
}

/** The string value of a span attribute. */
export function attr(span: OtlpSpan | undefined, key: string): string | undefined {
  return span?.attributes.find((a) => a.key === key)?.value.stringValue;
}

/**
 * An OTLP/HTTP (JSON) trace receiver on a free port: `OTEL_EXPORTER_OTLP_ENDPOINT` for the app;
 * `until(predicate)` resolves with the spans received once the predicate holds for them.
 */
export async function otlpReceiver() {
  const spans: OtlpSpan[] = [];
  let waiters: Array<{ ok: (s: OtlpSpan[]) => boolean; resolve: () => void }> = [];
  const server = createHttpServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const payload = JSON.parse(body) as {
          resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
        };
        for (const rs of payload.resourceSpans)
          for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        const ready = waiters.filter((w) => w.ok(spans));
        waiters = waiters.filter((w) => !ready.includes(w));
        for (const w of ready) w.resolve();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    async until(ok: (s: OtlpSpan[]) => boolean): Promise<OtlpSpan[]> {
      if (!ok(spans)) await new Promise<void>((resolve) => waiters.push({ ok, resolve }));
      return spans;
    },
    close: () => server.close(),
  };
}
