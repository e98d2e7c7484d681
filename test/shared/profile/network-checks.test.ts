// The board's network settings as the profile check sees them: addresses a device can have, netmasks that are netmasks.
import { describe, expect, it } from 'vitest';
import { validateProfile } from '../../../shared/profile/check';
import { defaultProfile } from '../../../shared/profile/defaults';
import type { Profile } from '../../../shared/profile/schema';

describe('the board’s network settings', () => {
  const tftp = (network: Record<string, string>) => {
    const profile = defaultProfile('rpi4');
    profile.boot.network = {
      method: 'static',
      serverIp: '192.168.1.10',
      boardIp: '192.168.1.50',
      ...network,
    } as Profile['boot']['network'];
    return validateProfile(profile).problems.filter((p) => p.path.startsWith('$.boot.network'));
  };

  it('refuses .0 and .255 for the board, a non-contiguous netmask, and a broadcast server', () => {
    expect(tftp({ boardIp: '192.168.1.255' })).toEqual([
      {
        path: '$.boot.network.boardIp',
        severity: 'error',
        message: expect.stringMatching(/^The board’s address: 192\.168\.1\.255 is the broadcast address/),
      },
    ]);
    expect(tftp({ boardIp: '192.168.1.0', netmask: '255.255.255.0' })).toEqual([
      {
        path: '$.boot.network.boardIp',
        severity: 'error',
        message: expect.stringContaining('is the address of the network 192.168.1.0/24 itself'),
      },
    ]);
    expect(tftp({ netmask: '255.0.255.0' })).toEqual([
      { path: '$.boot.network.netmask', severity: 'error', message: expect.stringContaining('is not a netmask') },
    ]);
    expect(tftp({ serverIp: '192.168.1.255', netmask: '255.255.255.0' })).toContainEqual(
      expect.objectContaining({ path: '$.boot.network.serverIp', severity: 'error' }),
    );
  });

  it('takes .0 and .255 inside a larger network, and a server on another network behind a gateway', () => {
    expect(tftp({ boardIp: '10.0.1.255', serverIp: '10.0.2.0', netmask: '255.255.0.0' })).toEqual([]);
    expect(tftp({ serverIp: '10.9.9.255', netmask: '255.255.255.0', gateway: '192.168.1.1' })).toEqual([]);
  });

  it('warns of loopback addresses (only an emulator on this computer reaches them) and refuses multicast', () => {
    expect(tftp({ serverIp: '127.0.0.1', boardIp: '127.0.0.2' })).toEqual([
      {
        path: '$.boot.network.boardIp',
        severity: 'warning',
        message: expect.stringMatching(/127\.0\.0\.2 is a loopback address.*never a Pi/),
      },
      { path: '$.boot.network.serverIp', severity: 'warning', message: expect.stringMatching(/127\.0\.0\.1 is a loopback address/) },
    ]);
    expect(tftp({ boardIp: '224.0.0.5' })).toContainEqual(expect.objectContaining({ path: '$.boot.network.boardIp', severity: 'error' }));
  });
});
