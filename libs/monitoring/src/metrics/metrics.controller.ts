import { Controller, Get, Inject, NotFoundException, Req, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeController } from '../openapi.js';
import type { IncomingHttpHeaders } from 'node:http';
import { PublicRoute } from '@infrastructure/core';
import { PROBLEM_CONTENT_TYPE, problem } from '../http/problem-details.js';
import { MONITORING_OPTIONS } from '../monitoring.constants.js';
import type { ResolvedMonitoringOptions } from '../monitoring.options.js';
import { metricsAuthorized, metricsChallenge, wantsOpenMetrics } from './metrics-auth.js';
import { MetricsService } from './metrics.service.js';

/** Builds the controller serving Prometheus metrics at `path`. */
export function createMetricsController(path: string): Type {
  @ApiExcludeController()
  @PublicRoute() // own auth (metrics) or none (probes): never the API's AuthGuard
  @Controller(path)
  class MetricsController {
    constructor(
      private readonly metrics: MetricsService,
      private readonly adapterHost: HttpAdapterHost,
      @Inject(MONITORING_OPTIONS) private readonly options: ResolvedMonitoringOptions,
    ) {}

    @Get()
    async scrape(@Req() req: { headers: IncomingHttpHeaders }, @Res() res: unknown): Promise<void> {
      const adapter = this.adapterHost.httpAdapter;
      const { auth, port } = this.options.metrics;
      if (port !== undefined) throw new NotFoundException(`Metrics are served on port ${port}`);
      if (!auth && !this.options.metrics.public) throw new NotFoundException();
      if (!metricsAuthorized(auth, req.headers.authorization)) {
        adapter.setHeader(res, 'www-authenticate', metricsChallenge(auth!));
        adapter.setHeader(res, 'content-type', PROBLEM_CONTENT_TYPE);
        adapter.reply(res, problem(401, { detail: 'Metrics need credentials.' }), 401);
        return;
      }
      const { contentType, body } = await this.metrics.render(
        wantsOpenMetrics(req.headers.accept) ? 'openmetrics' : 'prometheus',
      );
      adapter.setHeader(res, 'content-type', contentType);
      adapter.setHeader(res, 'cache-control', 'no-store');
      adapter.reply(res, body, 200);
    }
  }
  return MetricsController;
}
