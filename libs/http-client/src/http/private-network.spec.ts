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

  // Every textual form that carries a private IPv4 address (SSRF filters are bypassed with these).
  it.each([
    ['IPv4-mapped, dotted', '::ffff:10.0.0.1'],
    ['IPv4-mapped, hex', '::ffff:a00:1'],
    ['IPv4-mapped, metadata in hex', '::ffff:a9fe:a9fe'],
    ['IPv4-mapped, bracketed', '[::ffff:a9fe:a9fe]'],
    ['IPv4-mapped, expanded', '0:0:0:0:0:ffff:7f00:1'],
    ['IPv4-translated (RFC 6145)', '::ffff:0:a00:1'],
    ['IPv4-compatible, dotted', '::10.0.0.1'],
    ['IPv4-compatible, hex', '::a00:1'],
    ['IPv4-compatible loopback', '::7f00:1'],
    ['NAT64, dotted metadata', '64:ff9b::169.254.169.254'],
    ['NAT64, hex', '64:ff9b::a00:1'],
    ['NAT64, hex metadata', '64:ff9b::a9fe:a9fe'],
    ['NAT64 local-use (RFC 8215)', '64:ff9b:1::a00:1'],
    ['6to4 of 10.0.0.1', '2002:0a00:0001::'],
    ['6to4 of 127.0.0.1', '2002:7f00:1::1'],
    ['6to4 of the metadata address', '2002:a9fe:a9fe::1'],
    ['Teredo, client 10.0.0.1', '2001:0:4136:e378:8000:63bf:f5ff:fffe'],
    ['Teredo, client 127.0.0.1', '2001:0:4136:e378:8000:63bf:80ff:fffe'],
    ['Teredo, client 169.254.169.254', '2001:0:4136:e378:8000:63bf:5601:5601'],
    ['Teredo, private server', '2001:0:a00:1:8000:63bf:f7f7:f7f7'],
    ['link-local with a zone', 'fe80::1%eth0'],
    ['site-local (deprecated)', 'fec0::1'],
    ['discard-only', '100::1'],
    ['benchmarking', '2001:2::1'],
    ['documentation', '2001:db8::1'],
    ['IPv4 shorthand loopback', '127.1'],
  ])('refuses %s (%s)', (_form, address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    '::ffff:808:808',
    '::ffff:0:808:808',
    '64:ff9b::808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
    '2a00:1450:4001:82a::200e',
  ])('lets %s through (a public IPv4 inside)', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('is false for host names (they are checked after lookup)', () => {
    expect(isPrivateAddress('example.com')).toBe(false);
    expect(isPrivateAddress('10.example.com')).toBe(false);
    expect(isPrivateAddress('')).toBe(false);
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
