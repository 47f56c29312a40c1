import { describe, expect, it } from 'vitest';
import { applySdkEnvDefaults, maskedQueryAttributes } from './sdk.js';

describe('maskedQueryAttributes (server spans of the HTTP instrumentation)', () => {
  it('gives url.query with secret parameters masked', () => {
    expect(maskedQueryAttributes({ url: '/cb?code=123&state=s1' })).toEqual({
      'url.query': 'code=***&state=s1',
    });
    expect(maskedQueryAttributes({ url: '/x?access_token=t&X-Amz-Signature=f&page=2' })).toEqual({
      'url.query': 'access_token=***&X-Amz-Signature=***&page=2',
    });
  });

  it('adds nothing without a query string', () => {
    expect(maskedQueryAttributes({ url: '/orders/7' })).toEqual({});
    expect(maskedQueryAttributes({})).toEqual({});
  });
});

describe('applySdkEnvDefaults', () => {
  it('leaves OTEL_SERVICE_NAME unset when SERVICE_NAME is unset (not the string "undefined")', () => {
    const env: NodeJS.ProcessEnv = {};
    applySdkEnvDefaults(env);
    expect(env).toEqual({ OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' });
    // process.env turns an assigned undefined into "undefined": the real object must stay clean too
    const name = process.env.SERVICE_NAME;
    const otelName = process.env.OTEL_SERVICE_NAME;
    delete process.env.SERVICE_NAME;
    delete process.env.OTEL_SERVICE_NAME;
    try {
      applySdkEnvDefaults(process.env);
      expect(process.env.OTEL_SERVICE_NAME).toBeUndefined();
    } finally {
      if (name !== undefined) process.env.SERVICE_NAME = name;
      if (otelName === undefined) delete process.env.OTEL_SERVICE_NAME;
      else process.env.OTEL_SERVICE_NAME = otelName;
    }
  });

  it('names the service from SERVICE_NAME and keeps what the user set', () => {
    const env: NodeJS.ProcessEnv = { SERVICE_NAME: 'orders' };
    applySdkEnvDefaults(env);
    expect(env.OTEL_SERVICE_NAME).toBe('orders');
    const own: NodeJS.ProcessEnv = {
      SERVICE_NAME: 'orders',
      OTEL_SERVICE_NAME: 'orders-api',
      OTEL_METRICS_EXPORTER: 'otlp',
    };
    applySdkEnvDefaults(own);
    expect(own).toMatchObject({ OTEL_SERVICE_NAME: 'orders-api', OTEL_METRICS_EXPORTER: 'otlp' });
  });
});
