import { describe, expect, it } from 'vitest';
import { isPrivateAddress, PrivateAddressError, publicOnlyLookup } from './private-network.js';

const lookup = (host: string, all = false) =>
  new Promise<unknown>((resolve, reject) =>
    publicOnlyLookup(host, { all }, (error, address) => (error ? reject(error) : resolve(address))),
  );

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::10.0.0.1',
    '[::1]',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'lets %s through',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );

  it('is false for host names (they are checked after lookup)', () => {
    expect(isPrivateAddress('example.com')).toBe(false);
  });
});

describe('publicOnlyLookup', () => {
  it('resolves a public address as dns.lookup does (single and all)', async () => {
    await expect(lookup('93.184.216.34')).resolves.toBe('93.184.216.34');
    await expect(lookup('93.184.216.34', true)).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
    ]);
  });

  it('fails with EPRIVATE when the name resolves to a private address', async () => {
    const error = await lookup('localhost').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrivateAddressError);
    expect(error).toMatchObject({ code: 'EPRIVATE', retryable: false });
    expect((error as Error).message).toMatch(/^localhost resolves to (127\.0\.0\.1|::1)/);
  });
});
