import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  HealthRegistry,
  MONITORING_OPTIONS,
  MonitoringModule,
  type MonitoringOptions,
  type ResolvedMonitoringOptions,
} from '@infrastructure/monitoring';

const quiet: MonitoringOptions = {
  environment: 'test',
  logging: { level: 'silent', pretty: false },
  shutdown: { handleSignals: false, exitProcess: false },
};

@Injectable()
class OptionsFactory {
  createMonitoringOptions(): MonitoringOptions {
    return { ...quiet, serviceName: 'from-class' };
  }
}
@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

async function resolved(
  root: ReturnType<typeof MonitoringModule.forRoot>,
): Promise<ResolvedMonitoringOptions> {
  const ref = await Test.createTestingModule({ imports: [root] }).compile();
  const options = ref.get<ResolvedMonitoringOptions>(MONITORING_OPTIONS);
  expect(ref.get(HealthRegistry)).toBeInstanceOf(HealthRegistry);
  await ref.close();
  return options;
}

describe('MonitoringModule', () => {
  it('forRoot applies defaults', async () => {
    const o = await resolved(MonitoringModule.forRoot({ ...quiet, serviceName: 'svc' }));
    expect(o.serviceName).toBe('svc');
    expect(o.metrics.buckets).toContain(0.25);
    expect(o.health.timeoutMs).toBe(1000);
    expect(o.shutdown).toMatchObject({ readinessDelayMs: 0, timeoutMs: 25_000 });
    expect(o.logging.accessLogExclude).toEqual(['/health', '/metrics']);
  });

  it('waits 5 s for load balancers in production by default', async () => {
    const o = await resolved(MonitoringModule.forRoot({ ...quiet, environment: 'production' }));
    expect(o.shutdown.readinessDelayMs).toBe(5000);
  });

  it('forRootAsync with useFactory', async () => {
    const o = await resolved(
      MonitoringModule.forRootAsync({
        useFactory: async () => ({ ...quiet, serviceName: 'from-factory' }),
      }),
    );
    expect(o.serviceName).toBe('from-factory');
  });

  it('forRootAsync with useClass', async () => {
    expect(
      (await resolved(MonitoringModule.forRootAsync({ useClass: OptionsFactory }))).serviceName,
    ).toBe('from-class');
  });

  it('forRootAsync with useExisting', async () => {
    const o = await resolved(
      MonitoringModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFactory }),
    );
    expect(o.serviceName).toBe('from-class');
  });

  it('fails the boot naming a bad option', async () => {
    const bad = Test.createTestingModule({
      imports: [MonitoringModule.forRoot({ ...quiet, metrics: { buckets: [] } })],
    }).compile();
    await expect(bad).rejects.toThrow('MonitoringModule: options.metrics.buckets:');
    const unknown = Test.createTestingModule({
      imports: [MonitoringModule.forRoot({ ...quiet, shutdown: { timeout: 5 } } as never)],
    }).compile();
    await expect(unknown).rejects.toThrow(
      /MonitoringModule: options.shutdown: Unrecognized key: "timeout"/,
    );
  });
});
