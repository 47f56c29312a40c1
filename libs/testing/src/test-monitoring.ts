import type { MonitoringOptions } from '@infrastructure/monitoring';

/**
 * MonitoringModule options for tests: silent logs (or a capture destination), no signal
 * handlers, no `process.exit`, no readiness delay.
 *
 * @example MonitoringModule.forRoot(testMonitoringOptions({ logging: { level: 'warn', destination: capture } }))
 */
export function testMonitoringOptions(overrides: MonitoringOptions = {}): MonitoringOptions {
  return {
    ...overrides,
    environment: 'test',
    logging: { level: 'silent', pretty: false, ...overrides.logging },
    shutdown: {
      handleSignals: false,
      handleFatalErrors: false,
      exitProcess: false,
      ...overrides.shutdown,
    },
  };
}
