import { describe, expect, it } from 'vitest';
import { maskedQueryAttributes } from './sdk.js';

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
