import 'reflect-metadata';
import { ConfigValidationError } from '@infrastructure/configuration';
import { getLogger } from '@infrastructure/monitoring';
import { createApp } from './bootstrap.js';

async function main(): Promise<void> {
  const { app, config } = await createApp();
  // SIGTERM/SIGINT are handled by MonitoringModule's graceful shutdown (readiness 503, drain, exit 0).
  const { port, host } = config.values.http;
  await app.listen(port, host);
  getLogger('Bootstrap').info(
    `sample-api listening on http://${host === '0.0.0.0' ? 'localhost' : host}:${port} ` +
      `(${config.values.http.adapter}, NODE_ENV=${config.values.app.nodeEnv}); docs at /docs`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) {
    console.error(`sample-api: cannot start.\n${error.message}`);
  } else {
    console.error('sample-api: failed to start', error);
  }
  process.exit(1);
});
