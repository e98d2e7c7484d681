// IPv4 parsing is strict, netmasks must be contiguous, and the subnet check does what the boot settings need.
import { describe, expect, it } from 'vitest';
import { formatIpv4, isIpv4, netmaskPrefix, parseIpv4, sameSubnet } from '../../../shared/network/ipv4';

describe('IPv4', () => {
  it('accepts dotted quads and rejects everything else', () => {
    expect(parseIpv4('192.168.1.10')).toBe(0xc0a8010a);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '', ' 1.2.3.4x']) expect(isIpv4(bad)).toBe(false);
    expect(formatIpv4(0xc0a8010a)).toBe('192.168.1.10');
  });

  it('knows contiguous netmasks and their prefix', () => {
    expect(netmaskPrefix('255.255.255.0')).toBe(24);
    expect(netmaskPrefix('255.255.255.255')).toBe(32);
    expect(netmaskPrefix('0.0.0.0')).toBe(0);
    expect(netmaskPrefix('255.0.255.0')).toBeUndefined();
  });

  it('checks whether two addresses share a subnet', () => {
    expect(sameSubnet('192.168.1.10', '192.168.1.200', '255.255.255.0')).toBe(true);
    expect(sameSubnet('192.168.1.10', '192.168.2.10', '255.255.255.0')).toBe(false);
    expect(sameSubnet('192.168.1.10', '192.168.2.10', '255.255.0.0')).toBe(true);
    expect(sameSubnet('x', '192.168.2.10', '255.255.0.0')).toBeUndefined();
  });
});
