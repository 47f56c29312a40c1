import {
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  Body,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createTestApp, type TestApp, LogCapture } from '@infrastructure/testing';
import {
  getLogger,
  MonitoringModule,
  ProblemDetailsFilter,
  setupMonitoring,
  Span,
  type MonitoringOptions,
  type MonitoringExtras,
} from '@infrastructure/monitoring';

/** Captures log lines written by the root logger. */
export { LogCapture };

@Injectable()
export class DeepService {
  private readonly log = getLogger('DeepService');

  @Span()
  async work(id: string): Promise<{ id: string }> {
    await new Promise((r) => setImmediate(r));
    this.log.info({ itemId: id }, 'deep work done');
    return { id };
  }
}

let release: (() => void) | undefined;
let started: () => void = () => undefined;
/** Resolves when the next `/t/slow` request is being handled. */
export function slowStarted(): Promise<void> {
  return new Promise((resolve) => (started = resolve));
}
/** Lets a test end the slow request it started. */
export function releaseSlow(): void {
  release?.();
}

@Controller('t')
export class ProbeController {
  constructor(private readonly deep: DeepService) {}

  @Get('items/:id')
  item(@Param('id') id: string) {
    return this.deep.work(id);
  }

  @Post('echo')
  echo(@Body() body: Record<string, unknown>) {
    getLogger('Echo').info({ body }, 'echo body');
    return { ok: true };
  }

  @Get('resets/:token')
  reset(@Param('token') token: string) {
    return { ok: token.length > 0 };
  }

  @Get('headers')
  headers(@Param() _p: unknown) {
    return { ok: true };
  }

  @Get('slow')
  async slow() {
    await new Promise<void>((r) => {
      release = r;
      started();
    });
    return { slow: true };
  }

  @Get('fail')
  fail() {
    throw new Error('kaboom');
  }
}

@Module({ controllers: [ProbeController], providers: [DeepService] })
export class ProbeModule {}

/** An app with MonitoringModule and the probe routes, logs captured. */
export async function monitoredApp(
  adapter: 'express' | 'fastify',
  options: MonitoringOptions = {},
  extras: MonitoringExtras = {},
  imports: DynamicModule[] = [],
  /** Runs right after setupMonitoring, before init (routes on the raw adapter, `app.use`). */
  afterSetup?: (app: INestApplication) => void,
): Promise<{ t: TestApp; logs: LogCapture }> {
  const logs = new LogCapture();
  const t = await createTestApp(
    {
      imports: [
        MonitoringModule.forRoot({
          ...extras,
          ...options,
          environment: options.environment ?? 'test',
          logging: { pretty: false, ...options.logging, destination: logs },
          shutdown: { handleSignals: false, exitProcess: false, ...options.shutdown },
        }),
        ProbeModule,
        ...imports,
      ],
    },
    {
      adapter,
      configure: (app) => {
        setupMonitoring(app);
        afterSetup?.(app);
        app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
      },
    },
  );
  return { t, logs };
}
