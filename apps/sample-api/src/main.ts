import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigValidationError } from '@infrastructure/configuration';
import { createApp } from './bootstrap.js';

async function main(): Promise<void> {
  const { app, config } = await createApp();
  // SIGTERM/SIGINT: close the app (drain hooks) and exit 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const { port, host } = config.values.http;
  await app.listen(port, host);
  new Logger('Bootstrap').log(
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
