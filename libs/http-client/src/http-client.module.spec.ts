import { Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { InjectHttpClient } from './decorators/inject-http-client.decorator.js';
import { HttpClient } from './http/http-client.js';
import { HttpClients } from './http/http-clients.js';
import { HTTP_CLIENT_OPTIONS } from './http-client.constants.js';
import { HttpClientModule } from './http-client.module.js';
import type {
  HttpClientModuleOptions,
  ResolvedHttpClientModuleOptions,
} from './http-client.options.js';
import { bootTestingModule } from '@infrastructure/testing';

const boot = (imports: unknown[], providers: unknown[] = []) =>
  bootTestingModule({ imports: imports as never, providers: providers as never });

const options: HttpClientModuleOptions = {
  clients: { payments: { baseUrl: 'http://127.0.0.1:9/api', timeoutMs: 1234 } },
};

@Injectable()
class PaymentsGateway {
  constructor(@InjectHttpClient('payments') readonly client: HttpClient) {}
}

@Injectable()
class OptionsFactory {
  createHttpClientModuleOptions(): HttpClientModuleOptions {
    return options;
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

describe('HttpClientModule', () => {
  it('forRoot() gives HttpClients and @InjectHttpClient(name)', async () => {
    const app = await boot([HttpClientModule.forRoot(options)], [PaymentsGateway]);
    const gateway = app.get(PaymentsGateway);
    expect(gateway.client).toBeInstanceOf(HttpClient);
    expect(app.get(HttpClients).get('payments')).toBe(gateway.client);
    expect(gateway.client.circuitState).toBe('closed');
    expect(() => app.get(HttpClients).get('nope')).toThrow(
      'no HTTP client "nope" (configured: payments)',
    );
    await app.close();
  });

  it.each([
    ['useFactory', { useFactory: () => options }],
    ['useClass', { useClass: OptionsFactory }],
    ['useExisting', { imports: [OptionsModule], useExisting: OptionsFactory }],
  ])('forRootAsync with %s', async (_name, async) => {
    const app = await boot(
      [HttpClientModule.forRootAsync({ ...(async as object), clientNames: ['payments'] })],
      [PaymentsGateway],
    );
    const resolved = app.get<ResolvedHttpClientModuleOptions>(HTTP_CLIENT_OPTIONS);
    expect(resolved.clients.payments!.resilience.timeoutMs).toBe(1234);
    expect(app.get(PaymentsGateway).client.name).toBe('payments');
    await app.close();
  });

  it.each([
    [{ clients: { payments: { baseUrl: 'x', timeoutMs: 1 } } }, 'options.clients.payments.baseUrl'],
    [
      { clients: { payments: { baseUrl: 'http://a', timeoutMs: -5 } } },
      'HttpClientModule: options.clients.payments.timeoutMs:',
    ],
    [
      { clients: { payments: { baseUrl: 'http://a', retry: { maxAttempts: 'x' } } } },
      'options.clients.payments.retry',
    ],
    [
      { clients: { payments: { baseUrl: 'http://a', bulkhead: { maxConcurent: 2 } } } },
      'options.clients.payments.bulkhead',
    ],
    [{ clients: { 'bad name': { baseUrl: 'http://a' } } }, 'options.clients'],
    [
      { clients: { payments: { baseUrl: 'http://a', auth: { type: 'bearer' } } } },
      'options.clients.payments.auth',
    ],
  ])('bad options fail the boot naming the key: %j', async (bad, message) => {
    await expect(boot([HttpClientModule.forRoot(bad as never)])).rejects.toThrow(message);
  });

  it('masks secrets of a bad baseUrl in the boot error', async () => {
    const error = await boot([
      HttpClientModule.forRoot({
        clients: { p: { baseUrl: 'ftp://u:hunter2@host/x?token=abc' } },
      }),
    ]).then(
      () => new Error('booted'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toContain('options.clients.p.baseUrl');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('abc');
  });
});
