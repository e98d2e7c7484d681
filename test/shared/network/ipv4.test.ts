// IPv4 parsing is strict, netmasks must be contiguous, and the subnet check does what the boot settings need.
import { describe, expect, it } from 'vitest';
import { formatIpv4, hostAddressProblem, isIpv4, netmaskPrefix, netmaskProblem, parseIpv4, sameSubnet } from '../../../shared/network/ipv4';

describe('IPv4', () => {
  it('accepts dotted quads and rejects everything else', () => {
    expect(parseIpv4('192.168.1.10')).toBe(0xc0a8010a);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '', ' 1.2.3.4x'])
      expect(isIpv4(bad)).toBe(false);
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

  it('refuses a network’s own address and its broadcast as a device’s, with the netmask or as on a /24', () => {
    expect(hostAddressProblem('192.168.1.0')).toMatch(
      /^192\.168\.1\.0 is the address of the network 192\.168\.1\.0\/24 \(no netmask is set; set it when your network is larger\) itself/,
    );
    expect(hostAddressProblem('192.168.1.255', '255.255.255.0')).toMatch(
      /^192\.168\.1\.255 is the broadcast address of the network 192\.168\.1\.0\/24, not a device’s: choose another, such as 192\.168\.1\.50\.$/,
    );
    expect(hostAddressProblem('10.0.1.255', '255.255.0.0')).toBeUndefined();
    expect(hostAddressProblem('10.0.255.255', '255.255.0.0')).toMatch(/broadcast address of the network 10\.0\.0\.0\/16/);
    expect(hostAddressProblem('192.168.1.255', null)).toBeUndefined();
    expect(hostAddressProblem('127.0.0.1', null)).toMatch(/loopback/);
    expect(hostAddressProblem('224.0.0.5')).toMatch(/multicast/);
    expect(hostAddressProblem('0.1.2.3')).toMatch(/this network/);
    expect(hostAddressProblem('192.168.1.50', '255.255.255.0')).toBeUndefined();
  });

  it('says why a netmask is none: not ones then zeros, or all zeros', () => {
    expect(netmaskProblem('255.0.255.0')).toMatch(
      /^255\.0\.255\.0 is not a netmask: a netmask is ones followed by zeros, such as 255\.255\.255\.0/,
    );
    expect(netmaskProblem('0.0.0.0')).toMatch(/every address/);
    expect(netmaskProblem('255.255.254.0')).toBeUndefined();
  });
});
