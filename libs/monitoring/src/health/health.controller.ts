import {
  Controller,
  Get,
  Inject,
  Req,
  Res,
  ServiceUnavailableException,
  type Type,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import {
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  HealthCheckResponses,
} from '../openapi.js';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { PublicRoute } from '@infrastructure/core';
import { getLogger } from '../logging/root-logger.js';
import { ShutdownService } from '../shutdown/shutdown.service.js';
import { HealthRegistry } from './health.registry.js';
import { MONITORING_OPTIONS } from '../monitoring.constants.js';
import type { ResolvedMonitoringOptions } from '../monitoring.options.js';
import { metricsAuthorized } from '../metrics/metrics-auth.js';

interface StatusSettable {
  status(code: number): unknown;
}

interface HeadersOf {
  headers: IncomingHttpHeaders;
}

/** Keeps only `status` of every check in a group. */
const strip = (group?: Partial<Record<string, { status: string } | undefined>>) =>
  group &&
  Object.fromEntries(
    Object.entries(group).map(([name, check]) => [name, { status: check?.status }]),
  );

/** Each check's `status` alone: what a caller without the metrics credentials sees when protected. */
function statusesOnly(result: HealthCheckResult): HealthCheckResult {
  return {
    status: result.status,
    ...(result.info ? { info: strip(result.info) } : {}),
    ...(result.error ? { error: strip(result.error) } : {}),
    details: strip(result.details)!,
  } as HealthCheckResult;
}

/** Builds the health controller at `path` (`/live`, `/ready`, and `path` itself for details). */
export function createHealthController(path: string): Type {
  const log = getLogger('Health');

  @ApiTags('health')
  @PublicRoute() // own auth (metrics) or none (probes): never the API's AuthGuard
  @Controller(path)
  class HealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly registry: HealthRegistry,
      private readonly indicators: HealthIndicatorService,
      private readonly shutdown: ShutdownService,
      @Inject(MONITORING_OPTIONS) private readonly options: ResolvedMonitoringOptions,
    ) {}

    /** Liveness: the process and its event loop only, never dependencies. */
    @Get('live')
    @HealthCheck({ noCache: true, swaggerDocumentation: false })
    @HealthCheckResponses()
    @ApiOkResponse({ description: 'The process is alive.' })
    live(
      @Req() req: HeadersOf,
      @Res({ passthrough: true }) res: StatusSettable,
    ): Promise<HealthCheckResult> {
      return this.respond(req, res, 'liveness', this.registry.indicatorsFor('liveness'));
    }

    /** Readiness: every registered dependency; 503 while shutting down or when a critical check fails. */
    @Get('ready')
    @HealthCheck({ noCache: true, swaggerDocumentation: false })
    @HealthCheckResponses()
    @ApiServiceUnavailableResponse({
      description: 'Not ready: a critical dependency is down or the service is shutting down.',
    })
    ready(
      @Req() req: HeadersOf,
      @Res({ passthrough: true }) res: StatusSettable,
    ): Promise<HealthCheckResult> {
      return this.respond(req, res, 'readiness', [
        () => this.shutdownCheck(),
        ...this.registry.indicatorsFor('readiness'),
      ]);
    }

    /** Everything: liveness, readiness and process checks (memory, disk), with details. */
    @Get()
    @HealthCheck({ noCache: true, swaggerDocumentation: false })
    @HealthCheckResponses()
    details(
      @Req() req: HeadersOf,
      @Res({ passthrough: true }) res: StatusSettable,
    ): Promise<HealthCheckResult> {
      return this.respond(req, res, 'details', [
        () => this.shutdownCheck(),
        ...this.registry.indicatorsFor('details'),
      ]);
    }

    private shutdownCheck(): HealthIndicatorResult {
      const session = this.indicators.check('shutdown');
      const phase = this.shutdown.phase;
      return phase === 'running'
        ? session.up()
        : session.down({ reason: `shutting down (${phase})` });
    }

    /** Full details for everyone, or (protected) only for requests with the metrics credentials. */
    private showsDetails(req: HeadersOf): boolean {
      if (this.options.health.details === 'public') return true;
      const { auth } = this.options.metrics;
      return auth !== undefined && metricsAuthorized(auth, req.headers.authorization);
    }

    private async respond(
      req: HeadersOf,
      res: StatusSettable,
      scope: string,
      checks: Array<() => Promise<HealthIndicatorResult> | HealthIndicatorResult>,
    ): Promise<HealthCheckResult> {
      const shown = (result: HealthCheckResult) =>
        this.showsDetails(req) ? result : statusesOnly(result);
      try {
        return shown(
          await this.health.check(checks as Array<() => Promise<HealthIndicatorResult>>),
        );
      } catch (error) {
        if (!(error instanceof ServiceUnavailableException)) throw error;
        const body = error.getResponse() as HealthCheckResult;
        log.warn({ scope, failing: Object.keys(body.error ?? {}) }, `Health ${scope} check failed`);
        res.status(503);
        return shown(body);
      }
    }
  }
  return HealthController;
}
