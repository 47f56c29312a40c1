import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MonitoringExtras, MonitoringOptions } from './monitoring.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MONITORING_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MonitoringOptions>({ moduleName: 'Monitoring' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMonitoringOptions')
  .setExtras<MonitoringExtras>(
    { isGlobal: true, metricsPath: '/metrics', healthPath: '/health' },
    (def, extras) => ({
      ...def,
      global: extras.isGlobal,
    }),
  )
  .build();
