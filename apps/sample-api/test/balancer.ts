import { once } from 'node:events';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';

// A load balancer in front of several instances of the app, as a test sees one: round-robin over
// the instances whose /health/ready answers 200 (polled), and a request an instance refused
// because it is shutting down (the 503 problem of a draining instance, a refused or reset
// connection before any answer) is sent again to the next instance. Anything else is relayed as
// the instance answered it.

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An error of a request no instance could have handled (the connection failed before an answer). */
const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** The 503 a draining instance answers (HttpObserver's refusal), as opposed to any other 503. */
function isDrainRefusal(answer: Answer): boolean {
  return answer.status === 503 && answer.body.toString().includes('shutting down');
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Counters of what the balancer did, per instance base URL. */
export interface BalancerStats {
  /** Requests the balancer answered. */
  answered: number;
  /** Answers per instance. */
  servedBy: Map<string, number>;
  /** Attempts sent again to another instance (refused by a draining or closed one). */
  retried: number;
  /** Requests no instance answered (502 to the client). */
  failed: number;
}

export async function balancer(backends: readonly string[], readinessPollMs = 100) {
  const agents = new Map(backends.map((b) => [b, new Agent({ keepAlive: true, maxSockets: 64 })]));
  const ready = new Map(backends.map((b) => [b, true]));
  const stats: BalancerStats = {
    answered: 0,
    servedBy: new Map(backends.map((b) => [b, 0])),
    retried: 0,
    failed: 0,
  };
  let next = 0;

  const probe = setInterval(() => {
    for (const b of backends) {
      fetch(`${b}/health/ready`, { signal: AbortSignal.timeout(readinessPollMs * 5) })
        .then(async (res) => {
          await res.arrayBuffer();
          ready.set(b, res.ok);
        })
        .catch(() => ready.set(b, false));
    }
  }, readinessPollMs);

  /** The instances to try for one request: ready ones round-robin, then the others. */
  function order(): string[] {
    const start = next++ % backends.length;
    const rotated = [...backends.slice(start), ...backends.slice(0, start)];
    return [...rotated.filter((b) => ready.get(b)), ...rotated.filter((b) => !ready.get(b))];
  }

  function forward(base: string, req: IncomingMessage, body: Buffer): Promise<Answer> {
    const target = new URL(req.url ?? '/', base);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k) && k !== 'host'),
    );
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        target,
        {
          method: req.method,
          agent: agents.get(base),
          headers: { ...headers, 'content-length': String(body.length) },
          timeout: 10_000,
        },
        (res) => {
          readBody(res).then(
            (b) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }),
            reject,
          );
        },
      );
      out.on('timeout', () => out.destroy(new Error('timeout')));
      out.on('error', reject);
      out.end(body);
    });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      // Each instance twice at most: one that is closing may refuse before the probe notices.
      const attempts = [...order(), ...order()];
      for (const [i, base] of attempts.entries()) {
        let answer: Answer;
        try {
          answer = await forward(base, req, body);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code && REFUSED.has(code)) {
            ready.set(base, false);
            if (i < attempts.length - 1) stats.retried++;
            continue;
          }
          throw error;
        }
        if (isDrainRefusal(answer)) {
          ready.set(base, false);
          if (i < attempts.length - 1) stats.retried++;
          continue;
        }
        stats.answered++;
        stats.servedBy.set(base, (stats.servedBy.get(base) ?? 0) + 1);
        const headers = Object.fromEntries(
          Object.entries(answer.headers).filter(([k]) => !HOP_BY_HOP.has(k)),
        );
        res.writeHead(answer.status, headers).end(answer.body);
        return;
      }
      stats.failed++;
      res.writeHead(502).end();
    })().catch(() => {
      stats.failed++;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    async close(): Promise<void> {
      clearInterval(probe);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const agent of agents.values()) agent.destroy();
    },
  };
}
