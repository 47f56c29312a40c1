import { describe, expect, it } from 'vitest';
import { httpClientOptionsFrom, httpClientConfig } from './http-client.config.js';

describe('httpClientConfig', () => {
  it('names PREFIX_* variables under the <name>Client namespace', () => {
    const def = httpClientConfig('payments', 'PAYMENTS');
    expect(def.namespace).toBe('paymentsClient');
    expect(Object.values(def.fields).map((f) => f.env)).toEqual([
      'PAYMENTS_URL',
      'PAYMENTS_TIMEOUT_MS',
      'PAYMENTS_ATTEMPT_TIMEOUT_MS',
      'PAYMENTS_RETRIES',
      'PAYMENTS_HEALTH_CRITICAL',
    ]);
  });

  it('maps values to client options, undefined without a URL', () => {
    const values = {
      url: 'http://pay.test',
      timeoutMs: 5000,
      attemptTimeoutMs: 1000,
      retries: 1,
      healthCritical: false,
    };
    expect(httpClientOptionsFrom(values, { healthUrl: '/health' })).toEqual({
      baseUrl: 'http://pay.test',
      timeoutMs: 5000,
      attemptTimeoutMs: 1000,
      retry: { maxAttempts: 1 },
      healthCritical: false,
      healthUrl: '/health',
    });
    expect(httpClientOptionsFrom({ ...values, url: undefined })).toBeUndefined();
  });
});
