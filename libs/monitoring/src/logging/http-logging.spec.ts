import { describe, expect, it } from 'vitest';
import { loggablePath } from './http-logging.js';

const JWT =
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJlLW5vdC1yZWFs';

describe('loggablePath (access log paths)', () => {
  it('redacts the segment bound to a secret-named route parameter', () => {
    expect(
      loggablePath('/v1/password-resets/k3y-abc/confirm', '/v1/password-resets/:token/confirm'),
    ).toBe('/v1/password-resets/[REDACTED]/confirm');
    expect(loggablePath('/hooks/s3cr3t', '/hooks/:apiKey')).toBe('/hooks/[REDACTED]');
  });

  it('keeps ids and other parameters as they are', () => {
    const path = '/v1/orders/5f0c1a9e-7b1d-4f7e-9f43-2b1f0b7c9d11';
    expect(loggablePath(path, '/v1/orders/:id')).toBe(path);
    expect(loggablePath('/v1/customers/c-1/orders', '/v1/customers/:customerId/orders')).toBe(
      '/v1/customers/c-1/orders',
    );
  });

  it('redacts a JWT-shaped segment even on an unmatched route', () => {
    expect(loggablePath(`/v1/magic-link/${JWT}`, 'unmatched')).toBe('/v1/magic-link/[REDACTED]');
    expect(loggablePath(`/a/${JWT}/b`, '/a/:id/b')).toBe('/a/[REDACTED]/b');
  });

  it('a path whose segment count differs from the template only gets the JWT check', () => {
    expect(loggablePath('/hooks/s3cr3t/', '/hooks/:apiKey')).toBe('/hooks/s3cr3t/');
    expect(loggablePath(`/hooks/${JWT}/x`, '/hooks/:apiKey')).toBe('/hooks/[REDACTED]/x');
  });

  it('an eyJ that is not a whole JWT segment stays; the same route redacts per path', () => {
    expect(loggablePath('/v1/eyJnotatoken', '/v1/:name')).toBe('/v1/eyJnotatoken');
    expect(loggablePath('/reset/a', '/reset/:token')).toBe('/reset/[REDACTED]');
    expect(loggablePath('/reset/b', '/reset/:token')).toBe('/reset/[REDACTED]');
  });
});
