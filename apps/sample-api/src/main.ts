import 'reflect-metadata';
import { ConfigValidationError } from '@infrastructure/configuration';
import { flushLogs, getLogger } from '@infrastructure/monitoring';
import { createApp, listeningMessage } from './bootstrap.js';

async function main(): Promise<void> {
  const created = await createApp();
  // SIGTERM/SIGINT are handled by MonitoringModule's graceful shutdown (readiness 503, drain, exit 0).
  const { port, host } = created.config.values.http;
  await created.app.listen(port, host);
  getLogger('Bootstrap').info(listeningMessage(created));
}

main().catch((error: unknown) => {
  const log = getLogger('Bootstrap');
  if (error instanceof ConfigValidationError && process.env.NODE_ENV !== 'production') {
    // A person is reading: the problem list as text.
    console.error(`sample-api: cannot start.\n${error.message}`);
  } else if (error instanceof ConfigValidationError) {
    const problems = error.problems.map((p) => ({ env: p.env, problem: p.message }));
    log.fatal({ problems }, 'sample-api: configuration is invalid');
  } else {
    log.fatal({ err: error }, 'sample-api: failed to start');
  }
  flushLogs();
  process.exit(1);
});
