import { describe, expect, it } from 'vitest';

import { extractContext, extractRequestContext } from './propagation.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('extractContext / extractRequestContext', () => {
  const expected = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    correlationId: 'corr-1',
    causationId: 'cause-1',
    userId: 'user-1',
    tenantId: 'tenant-1',
  };

  it('reads lower-case message headers as they are', () => {
    const headers = {
      traceparent: TRACEPARENT,
      'x-correlation-id': 'corr-1',
      'x-causation-id': 'cause-1',
      'x-user-id': 'user-1',
      'x-tenant-id': 'tenant-1',
      'content-type': 'application/json',
    };
    expect(extractRequestContext(headers)).toEqual(expected);
    expect(extractContext(headers).store).toEqual(expected);
  });

  it('reads mixed-case names and array values the same way', () => {
    const headers = {
      TraceParent: TRACEPARENT,
      'X-Correlation-Id': ['corr-1', 'second'],
      'x-causation-id': 'cause-1',
      'X-USER-ID': 'user-1',
      'x-tenant-id': ['tenant-1'],
      'x-empty': undefined,
    };
    expect(extractRequestContext(headers)).toEqual(expected);
    expect(extractContext(headers).store).toEqual(expected);
  });

  it('drops unsafe ids and a malformed traceparent', () => {
    const store = extractRequestContext({
      traceparent: '00-zz-yy-01',
      'x-correlation-id': 'line\nbreak',
      'x-user-id': 'u'.repeat(1000),
    });
    expect(store).toEqual({});
  });

  it('returns a new store each call (the consumer changes it)', () => {
    const headers = { 'x-correlation-id': 'c' };
    const a = extractRequestContext(headers);
    a.causationId = 'changed';
    expect(extractRequestContext(headers)).toEqual({ correlationId: 'c' });
  });
});
