import { describe, expect, it } from 'vitest';
import { ApiKeys } from '../http/api-keys.js';
import { clientIp } from './client-ip.js';

const req = (peer: string, xff?: string) => ({
  headers: xff ? { 'x-forwarded-for': xff } : {},
  socket: { remoteAddress: peer },
});

describe('clientIp', () => {
  it('ignores X-Forwarded-For without trusted proxies (a client cannot pick its address)', () => {
    expect(clientIp(req('10.0.0.5', '1.2.3.4'), 0)).toBe('10.0.0.5');
  });
  it('takes the entry added by the outermost trusted proxy', () => {
    expect(clientIp(req('10.0.0.5', '6.6.6.6, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.5', '6.6.6.6, 1.2.3.4, 10.0.0.9'), 2)).toBe('1.2.3.4');
  });
  it('falls back to the peer for garbage and unmaps IPv4-mapped addresses', () => {
    expect(clientIp(req('::ffff:10.0.0.5', 'not-an-ip'), 1)).toBe('10.0.0.5');
  });
});

describe('ApiKeys', () => {
  it('authenticates by hash only, and refuses malformed hashes at boot', () => {
    const keys = new ApiKeys([
      { name: 'reporting', hash: ApiKeys.hash('k-123456789'), scopes: ['orders:read'] },
    ]);
    expect(keys.authenticate('k-123456789')).toMatchObject({
      subject: 'reporting',
      kind: 'api-key',
      scopes: ['orders:read'],
    });
    expect(keys.authenticate('k-wrong')).toBeUndefined();
    expect(() => new ApiKeys([{ name: 'x', hash: 'plain-text-key' }])).toThrow(/sha256:<64 hex/);
  });
});
