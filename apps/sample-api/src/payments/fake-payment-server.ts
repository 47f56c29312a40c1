import { FakePaymentProvider } from './fake-payment-provider.js';

/**
 * The fake payment provider as a process, for `docker compose` (service `payments`) and for
 * running the sample API against a provider you can stop: `PORT` (default 4010), `HOST`
 * (default 0.0.0.0). `node dist/apps/sample-api/src/payments/fake-payment-server.js`, then
 * `PAYMENTS_URL=http://127.0.0.1:4010 npm start`. SIGTERM/SIGINT stop it (exit 0).
 */
const port = Number(process.env.PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(
    `fake payment provider: PORT must be an integer 0-65535, got "${process.env.PORT}"`,
  );
  process.exit(2);
}
const provider = await new FakePaymentProvider().start(port, process.env.HOST ?? '0.0.0.0');
console.log(`fake payment provider listening on ${provider.url}`);
const stop = () => void provider.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
