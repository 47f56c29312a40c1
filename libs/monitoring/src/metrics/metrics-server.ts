import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { MetricsAuth } from '../monitoring.options.js';
import { metricsAuthorized, metricsChallenge, wantsOpenMetrics } from './metrics-auth.js';
import type { MetricsService } from './metrics.service.js';

/** A bare node:http server for metrics on their own port (kept off the public listener). */
export async function startMetricsServer(
  metrics: MetricsService,
  opts: { port: number; host: string; path: string; auth?: MetricsAuth },
): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== opts.path) {
        res.writeHead(404).end();
        return;
      }
      if (!metricsAuthorized(opts.auth, req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': metricsChallenge(opts.auth!) }).end();
        return;
      }
      const { contentType, body } = await metrics.render(
        wantsOpenMetrics(req.headers.accept) ? 'openmetrics' : 'prometheus',
      );
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  return server;
}
