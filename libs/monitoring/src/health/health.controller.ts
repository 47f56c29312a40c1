import { Controller, Get, Res, ServiceUnavailableException, type Type } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '../openapi.js';
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

interface StatusSettable {
  status(code: number): unknown;
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
    ) {}

    /** Liveness: the process and its event loop only, never dependencies. */
    @Get('live')
    @HealthCheck()
    @ApiOkResponse({ description: 'The process is alive.' })
    live(@Res({ passthrough: true }) res: StatusSettable): Promise<HealthCheckResult> {
      return this.respond(res, 'liveness', this.registry.indicatorsFor('liveness'));
    }

    /** Readiness: every registered dependency; 503 while shutting down or when a critical check fails. */
    @Get('ready')
    @HealthCheck()
    @ApiServiceUnavailableResponse({
      description: 'Not ready: a critical dependency is down or the service is shutting down.',
    })
    ready(@Res({ passthrough: true }) res: StatusSettable): Promise<HealthCheckResult> {
      return this.respond(res, 'readiness', [
        () => this.shutdownCheck(),
        ...this.registry.indicatorsFor('readiness'),
      ]);
    }

    /** Everything: liveness, readiness and process checks (memory, disk), with details. */
    @Get()
    @HealthCheck()
    details(@Res({ passthrough: true }) res: StatusSettable): Promise<HealthCheckResult> {
      return this.respond(res, 'details', [
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

    private async respond(
      res: StatusSettable,
      scope: string,
      checks: Array<() => Promise<HealthIndicatorResult> | HealthIndicatorResult>,
    ): Promise<HealthCheckResult> {
      try {
        return await this.health.check(checks as Array<() => Promise<HealthIndicatorResult>>);
      } catch (error) {
        if (!(error instanceof ServiceUnavailableException)) throw error;
        const body = error.getResponse() as HealthCheckResult;
        log.warn({ scope, failing: Object.keys(body.error ?? {}) }, `Health ${scope} check failed`);
        res.status(503);
        return body;
      }
    }
  }
  return HealthController;
}
